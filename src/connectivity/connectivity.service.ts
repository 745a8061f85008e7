import { Injectable } from '@nestjs/common';
import { ConnectivityStore } from '../database/connectivity.store.js';
import { SnapshotStatus } from '../database/entities/index.js';
import { SnapshotStore } from '../database/snapshot.store.js';
import { ConflictError, InvalidInputError, NotFoundError } from '../model/errors.js';
import {
  buildConnectivityIndex,
  queryConnections,
  type ConnectionPage,
  type ConnectionQuery,
  type ConnectivityIndex,
} from './read-index.js';
import type { ConnectionRow } from './rows.js';

export class ConnectivityNotFoundError extends NotFoundError {}
export class ConnectivityNotReadyError extends ConflictError {}

/**
 * How many stored connectivities stay prepared for reading (read-index.ts), most recently read
 * first. Each holds the parsed lists (already cached by ListNodeStore) plus an index over them.
 */
export const CONNECTIVITY_INDEX_CACHE = 8;

/** The largest page a read may ask for (`limit`). */
export const MAX_CONNECTION_PAGE = 100_000;
/**
 * The most rows an unpaged read answers: a row is 300-600 bytes of JSON, and one answer's text
 * cannot pass V8's largest string (512 MiB). A whole big mesh has more (the bench mesh 2 million).
 */
export const MAX_UNPAGED_CONNECTIONS = 500_000;

export class InvalidConnectionPageError extends InvalidInputError {}

/** `offset` a whole number from 0, `limit` a whole number from 1 to MAX_CONNECTION_PAGE; absent: all rows. */
export function checkPage(page: ConnectionPage): ConnectionPage {
  if (page.offset != null && (!Number.isInteger(page.offset) || page.offset < 0))
    throw new InvalidConnectionPageError(`offset must be a whole number from 0, not ${String(page.offset)}`);
  if (page.limit != null && (!Number.isInteger(page.limit) || page.limit < 1 || page.limit > MAX_CONNECTION_PAGE))
    throw new InvalidConnectionPageError(`limit must be a whole number from 1 to ${MAX_CONNECTION_PAGE}, not ${String(page.limit)}`);
  return page;
}

export interface ConnectionPageResult {
  connections: ConnectionRow[];
  /** every row that passes the filter, before paging */
  total: number;
}

/** Reading a snapshot's stored connectivity: a query and an expansion to workloads, never a computation. */
@Injectable()
export class ConnectivityService {
  /** by the content address of the stored lists; a Map's order is the LRU order */
  private readonly indexes = new Map<string, Promise<ConnectivityIndex>>();

  constructor(
    private readonly snapshots: SnapshotStore,
    private readonly store: ConnectivityStore,
  ) {}

  async connections(snapshotId: string, query: ConnectionQuery, page: ConnectionPage = {}): Promise<ConnectionRow[]> {
    const snapshot = await this.snapshots.get(snapshotId);
    if (!snapshot) throw new ConnectivityNotFoundError(`snapshot ${snapshotId} not found`);
    return (await this.read(snapshotId, query, page)).connections;
  }

  /** For REST: a snapshot that is not READY yet has no connectivity to show (409). */
  async connectionsWhenReady(snapshotId: string, query: ConnectionQuery, page: ConnectionPage = {}): Promise<ConnectionPageResult> {
    const snapshot = await this.snapshots.get(snapshotId);
    if (!snapshot) throw new ConnectivityNotFoundError(`snapshot ${snapshotId} not found`);
    if (snapshot.status !== SnapshotStatus.READY)
      throw new ConnectivityNotReadyError(`snapshot ${snapshotId} is ${snapshot.status}: connectivity is computed with it, once READY`);
    return this.read(snapshotId, query, page);
  }

  private async read(snapshotId: string, query: ConnectionQuery, page: ConnectionPage): Promise<ConnectionPageResult> {
    checkPage(page);
    const index = await this.index(snapshotId);
    if (!index) return { connections: [], total: 0 };
    // Unpaged: all the rows, when one answer can hold them.
    const bounded = page.limit == null ? { ...page, limit: MAX_UNPAGED_CONNECTIONS + 1 } : page;
    const { rows, total } = queryConnections(index, query, bounded);
    if (rows.length > MAX_UNPAGED_CONNECTIONS)
      throw new InvalidConnectionPageError(
        `${total} connections pass these filters, more than one answer holds (${MAX_UNPAGED_CONNECTIONS}): ask for them a page at a time (limit and offset), or filter them (namespace, service, source)`,
      );
    return { connections: rows, total };
  }

  private async index(snapshotId: string): Promise<ConnectivityIndex | null> {
    const roots = await this.store.roots(snapshotId);
    if (!roots) return null;
    const key = `${roots.connections.toString('hex')}/${roots.senders.toString('hex')}`;
    let index = this.indexes.get(key);
    if (index) {
      this.indexes.delete(key);
    } else {
      index = this.store.readLists(roots).then(buildConnectivityIndex);
      // A failed read is not kept.
      index.catch(() => this.indexes.delete(key));
    }
    this.indexes.set(key, index);
    while (this.indexes.size > CONNECTIVITY_INDEX_CACHE) this.indexes.delete(this.indexes.keys().next().value!);
    return index;
  }
}
