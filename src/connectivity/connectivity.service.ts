import { Injectable } from '@nestjs/common';
import { ConnectivityStore } from '../database/connectivity.store.js';
import { SnapshotStatus } from '../database/entities/index.js';
import { SnapshotStore } from '../database/snapshot.store.js';
import { ConflictError, NotFoundError } from '../model/errors.js';
import { expandConnections, type ConnectionFilter, type ConnectionRow } from './rows.js';

export class ConnectivityNotFoundError extends NotFoundError {}
export class ConnectivityNotReadyError extends ConflictError {}

/** Reading a snapshot's stored connectivity: a query and an expansion to workloads, never a computation. */
@Injectable()
export class ConnectivityService {
  constructor(
    private readonly snapshots: SnapshotStore,
    private readonly store: ConnectivityStore,
  ) {}

  async connections(snapshotId: string, filter: ConnectionFilter): Promise<ConnectionRow[]> {
    const snapshot = await this.snapshots.get(snapshotId);
    if (!snapshot) throw new ConnectivityNotFoundError(`snapshot ${snapshotId} not found`);
    return this.read(snapshotId, filter);
  }

  /** For REST: a snapshot that is not READY yet has no connectivity to show (409). */
  async connectionsWhenReady(snapshotId: string, filter: ConnectionFilter): Promise<ConnectionRow[]> {
    const snapshot = await this.snapshots.get(snapshotId);
    if (!snapshot) throw new ConnectivityNotFoundError(`snapshot ${snapshotId} not found`);
    if (snapshot.status !== SnapshotStatus.READY)
      throw new ConnectivityNotReadyError(`snapshot ${snapshotId} is ${snapshot.status}: connectivity is computed with it, once READY`);
    return this.read(snapshotId, filter);
  }

  private async read(snapshotId: string, filter: ConnectionFilter): Promise<ConnectionRow[]> {
    const stored = await this.store.read(snapshotId);
    return stored ? expandConnections(stored.groups, stored.senders, filter) : [];
  }
}
