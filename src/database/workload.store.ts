import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import type { Workload } from '../snapshots/ingest/types.js';
import { WorkloadEntity } from './entities/index.js';

const INSERT_CHUNK = 2000;

/** The workloads the compute job derives for a snapshot. */
@Injectable()
export class WorkloadStore {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Replaces the snapshot's workloads in one transaction, so a recomputation is idempotent. */
  async replace(snapshotId: string, workloads: (Workload & { proxyClass?: string | null })[]): Promise<void> {
    await this.dataSource.transaction((em) => this.replaceIn(em, snapshotId, workloads));
  }

  /** The same, inside the caller's transaction. */
  async replaceIn(em: EntityManager, snapshotId: string, workloads: (Workload & { proxyClass?: string | null })[]): Promise<void> {
    await em.delete(WorkloadEntity, { snapshotId });
    {
      for (let i = 0; i < workloads.length; i += INSERT_CHUNK) {
        const chunk = workloads.slice(i, i + INSERT_CHUNK);
        await em.query(
          `INSERT INTO workloads
             (snapshot_id, namespace, name, kind, proxy_type, labels, annotations, ips, service_account, services, proxy_class)
           SELECT $1, w.namespace, w.name, w.kind, w.proxy_type::proxy_type, w.labels::jsonb, w.annotations::jsonb,
                  ARRAY(SELECT jsonb_array_elements_text(w.ips::jsonb)), w.service_account,
                  ARRAY(SELECT jsonb_array_elements_text(w.services::jsonb)), w.proxy_class
           FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[])
             AS w(namespace, name, kind, proxy_type, labels, annotations, ips, service_account, services, proxy_class)`,
          [
            snapshotId,
            chunk.map((w) => w.namespace),
            chunk.map((w) => w.name),
            chunk.map((w) => w.kind),
            chunk.map((w) => w.proxyType),
            chunk.map((w) => JSON.stringify(w.labels)),
            chunk.map((w) => JSON.stringify(w.annotations)),
            // Arrays of arrays are not rectangular; each row's list travels as JSON.
            chunk.map((w) => JSON.stringify(w.ips)),
            chunk.map((w) => w.serviceAccount),
            chunk.map((w) => JSON.stringify(w.services)),
            chunk.map((w) => w.proxyClass ?? null),
          ],
        );
      }
    }
  }

  async list(snapshotId: string, namespace?: string | null): Promise<WorkloadEntity[]> {
    return this.dataSource.getRepository(WorkloadEntity).find({
      where: { snapshotId, ...(namespace ? { namespace } : {}) },
      order: { namespace: 'ASC', name: 'ASC', kind: 'ASC' },
    });
  }
}

