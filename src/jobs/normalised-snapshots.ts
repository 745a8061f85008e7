import { Injectable } from '@nestjs/common';
import { SnapshotStore } from '../database/snapshot.store.js';
import type { SessionInput, SnapshotSource } from '../generator/generator.service.js';
import type { GatewayDeployer } from '../generator/protocol.js';
import type { NormalisedSnapshot } from '../model/snapshot.js';
import { normaliseOnThread } from './normalise-thread.js';

/**
 * Stored snapshots as the generator loads them (with what istiod deploys for their Gateways, asked
 * of `deploy`), normalised on a thread as a compute job's are. Outside a job too (a session started
 * for a question about a READY snapshot, kube-proxy's view, a journey), normalising on the event
 * loop would hold every request the API serves meanwhile (about half a second on the bench mesh,
 * seconds on a big one), and so would writing the session's load params.
 */
@Injectable()
export class NormalisedSnapshots implements SnapshotSource {
  constructor(private readonly snapshots: SnapshotStore) {}

  /** The snapshot normalised; null when there is none. */
  async normalised(snapshotId: string, deploy: GatewayDeployer): Promise<NormalisedSnapshot | null> {
    return (await this.onThread(snapshotId, deploy))?.normalised ?? null;
  }

  /** A session's load params, as JSON written on the thread; null when there is no such snapshot. */
  async sessionInput(snapshotId: string, deploy: GatewayDeployer): Promise<SessionInput | null> {
    const read = await this.onThread(snapshotId, deploy);
    return read && { loadParamsJson: read.loadParamsJson };
  }

  private async onThread(snapshotId: string, deploy: GatewayDeployer) {
    if (!(await this.snapshots.get(snapshotId))) return null;
    return normaliseOnThread(this.snapshots.resources(snapshotId), deploy);
  }
}
