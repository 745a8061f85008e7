import type { DataSource, EntityManager } from 'typeorm';
import { lockAgainstCollection } from './garbage-collector.js';

// A deadlock (40P01) or serialisation failure (40001) against a concurrent writer: worth a retry.
const RETRYABLE = new Set(['40P01', '40001']);
const ATTEMPTS = 3;

/**
 * Runs `work` in a transaction that keeps the garbage collector out; a deadlock or serialisation
 * failure against a concurrent writer runs the whole transaction again, up to three attempts.
 */
export async function writeTransaction<T>(dataSource: DataSource, work: (em: EntityManager) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await dataSource.transaction(async (em) => {
        await lockAgainstCollection(em);
        return work(em);
      });
    } catch (error) {
      if (attempt < ATTEMPTS && RETRYABLE.has((error as { code?: string }).code ?? '')) continue;
      throw error;
    }
  }
}
