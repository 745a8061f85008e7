import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import type { Connectivity } from '../model/connectivity.js';
import { ListNodeStore } from './list-node.store.js';
import { connectionListCodec, senderListCodec } from './snapshot-lists.js';

export interface ConnectivityRoots {
  connections: Buffer;
  senders: Buffer;
}

/** In the compute job's transaction (ProxyConfigStore.saveComputation): the lists' new nodes, and their roots on the snapshot. */
export async function writeConnectivity(
  em: EntityManager,
  lists: ListNodeStore,
  snapshotId: string,
  connectivity: Connectivity,
): Promise<void> {
  const connections = await lists.write(em, connectionListCodec, connectivity.groups);
  const senders = await lists.write(em, senderListCodec, connectivity.senders);
  await em.query('UPDATE snapshots SET connection_list = $2, sender_list = $3 WHERE id = $1', [snapshotId, connections, senders]);
}

/** A snapshot's connectivity, as two chunked lists on the snapshot: every SQL statement about it. */
@Injectable()
export class ConnectivityStore {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly lists: ListNodeStore,
  ) {}

  /**
   * The roots of a snapshot's connectivity lists (content addresses: the same roots are the same
   * connectivity); null when it has none.
   */
  async roots(snapshotId: string): Promise<ConnectivityRoots | null> {
    const [row]: { connection_list: Buffer | null; sender_list: Buffer | null }[] = await this.dataSource.query(
      'SELECT connection_list, sender_list FROM snapshots WHERE id = $1',
      [snapshotId],
    );
    if (!row?.connection_list || !row.sender_list) return null;
    return { connections: row.connection_list, senders: row.sender_list };
  }

  /** The lists under these roots. */
  async readLists(roots: ConnectivityRoots): Promise<Connectivity> {
    const [groups, senders] = await Promise.all([
      this.lists.read(connectionListCodec, roots.connections),
      this.lists.read(senderListCodec, roots.senders),
    ]);
    return { groups, senders };
  }
}
