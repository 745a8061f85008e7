import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { APP_CONFIG, type AppConfig, type GeneratorConfig } from '../config/config.js';
import { NotFoundError } from '../model/errors.js';
import type { NormalisedSnapshot } from '../model/snapshot.js';
import { generatorBinary } from './binary.js';
import { StatelessGenerator } from './stateless-generator.js';
import { GeneratorProcess } from './generator-process.js';
import { GeneratorError, loadParams, type GatewayDeployer, type Methods, type RenderParams } from './protocol.js';

interface Session {
  ready: Promise<GeneratorProcess>;
  process?: GeneratorProcess;
  lastUsed: number;
  inFlight: number;
}

export class SnapshotNotFoundError extends NotFoundError {}

/** An answer's line as its process wrote it (GeneratorService.askRaw). */
export interface RawAnswer {
  line: Uint8Array;
  /** the GeneratorProcess.serial of the process that wrote it */
  process: number;
}

/**
 * Where a session gets the snapshot it loads (SessionInput), or null when there is no such
 * snapshot. The adapter never reads the store itself (the application provides this). What istiod
 * deploys for Gateway API Gateways is part of it, asked of `deploy`.
 */
export interface SnapshotSource {
  sessionInput(snapshotId: string, deploy: GatewayDeployer): Promise<SessionInput | null>;
}
export const SNAPSHOT_SOURCE = Symbol('SNAPSHOT_SOURCE');

/**
 * What a caller that has normalised the snapshot gives a session to load: the snapshot, or already
 * its `load` request's params as JSON (`JSON.stringify(loadParams(snapshot))`, which a compute job
 * writes on its normalising thread: megabytes of JSON, off the event loop).
 */
export type SessionInput = NormalisedSnapshot | { loadParamsJson: string };

/**
 * How much nicer than the service the processes that hold snapshots run: a compute's generation
 * runs in them, and when both want the CPU, the service's own process (the event loop serving the
 * API, the job's thread taking their answers) should have it first. The work stays the same; the
 * API waits less (bench mesh, two runs each: GET p99 25-47 against 37-48 ms, the event loop's
 * longest hold 86-116 against 151-160 ms, upload to READY 15.8-19.5 against 17.0-20.5 s).
 */
const SESSION_NICENESS = 10;

/**
 * Generator sessions, one per snapshot, pooled: loading a large mesh into Istio takes seconds, and
 * every later question about that snapshot is answered from the loaded session.
 */
@Injectable()
export class GeneratorService implements OnModuleDestroy {
  private readonly logger = new Logger('Generator');
  private readonly sessions = new Map<string, Session>(); // iteration order = least recently used first
  private readonly sweeper = setInterval(() => this.closeIdle(), 30_000).unref();

  private readonly limits: GeneratorConfig;
  /** For what needs no snapshot (what istiod deploys for Gateways, before a snapshot is normalised). */
  private readonly stateless: StatelessGenerator;
  /**
   * A started process holding no snapshot, for the next session: starting one (the Go runtime,
   * Istio's package initialisation) is a few hundred ms of every session's load, off it this way.
   * Made when a session starts, so that a service that never loads one runs none.
   */
  private spare: GeneratorProcess | null = null;

  constructor(@Inject(SNAPSHOT_SOURCE) private readonly source: SnapshotSource, @Inject(APP_CONFIG) config: AppConfig) {
    this.limits = config.generator;
    this.stateless = new StatelessGenerator(config.generator.binary);
  }

  onModuleDestroy() {
    clearInterval(this.sweeper);
    for (const id of [...this.sessions.keys()]) this.close(id);
    this.spare?.close();
    this.spare = null;
    this.stateless.close();
  }

  /**
   * Ask the snapshot's session; a session that died is restarted once. A caller that has already
   * normalised the snapshot passes it (SessionInput), so that starting the session does not read
   * and normalise it again.
   */
  async ask<M extends keyof Methods>(
    snapshotId: string,
    method: M,
    params: Methods[M]['params'],
    input?: SessionInput,
  ): Promise<Methods[M]['result']> {
    return this.use(snapshotId, input, (process) => process.request(method, params, this.limits.requestTimeoutMs));
  }

  /**
   * As ask, the answer's line unparsed: `{"id":…,"result":…}` as UTF-8 bytes of their own, and
   * which process wrote it (GeneratorProcess.serial: a session restarted is another process, which
   * holds nothing of what the one before sent a compute job).
   */
  askRaw<M extends keyof Methods>(snapshotId: string, method: M, params: Methods[M]['params']): Promise<RawAnswer> {
    return this.use(snapshotId, undefined, async (process) => ({
      line: await process.requestRaw(method, params, this.limits.requestTimeoutMs),
      process: process.serial,
    }));
  }

  private async use<T>(snapshotId: string, input: SessionInput | undefined, call: (process: GeneratorProcess) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const session = this.acquire(snapshotId, input);
      try {
        const process = await session.ready;
        return await call(process);
      } catch (error) {
        if (error instanceof GeneratorError && error.code === 'EXITED' && attempt === 0) {
          this.logger.warn(`generator session for snapshot ${snapshotId} died (${error.message}); restarting it`);
          this.close(snapshotId);
          continue;
        }
        if (error instanceof GeneratorError && error.code === 'TIMEOUT') this.close(snapshotId); // a stuck session is no use
        throw error;
      } finally {
        session.inFlight--;
        session.lastUsed = Date.now();
      }
    }
  }

  /**
   * Lets the snapshot's session forget what it sent a compute job (hashedProxyConfig). A session
   * that is gone took that with it: none is started for this, and a failure leaves only memory
   * the session frees when it closes.
   */
  async endJob(snapshotId: string, job: string): Promise<void> {
    const process = this.sessions.get(snapshotId)?.process;
    if (!process?.alive) return;
    await process.request('endJob', { job }, this.limits.requestTimeoutMs).catch(() => undefined);
  }

  /** What istiod's gateway deployment controller would apply, asked of a generator that holds no snapshot. */
  deployGateways(params: Methods['gatewayDeployments']['params']): Promise<Methods['gatewayDeployments']['result']> {
    return this.stateless.request('gatewayDeployments', params);
  }

  /**
   * What istioctl prints (its own writers), asked of a generator that holds no snapshot; with view
   * `config_dump` and output json, the one config dump's text.
   */
  async render(params: RenderParams): Promise<string> {
    return (await this.stateless.request('render', params)).output;
  }

  private acquire(snapshotId: string, input?: SessionInput): Session {
    let session = this.sessions.get(snapshotId);
    if (session?.process && !session.process.alive) {
      this.close(snapshotId);
      session = undefined;
    }
    if (!session) {
      const created: Session = { ready: this.start(snapshotId, input), lastUsed: Date.now(), inFlight: 0 };
      created.ready.then(
        (p) => {
          created.process = p;
          this.enforceLimits();
        },
        () => this.sessions.get(snapshotId) === created && this.sessions.delete(snapshotId),
      );
      session = created;
    }
    this.sessions.delete(snapshotId);
    this.sessions.set(snapshotId, session);
    session.inFlight++;
    return session;
  }

  private async start(snapshotId: string, input?: SessionInput): Promise<GeneratorProcess> {
    const started = Date.now();
    const spare = this.spare;
    this.spare = new GeneratorProcess(generatorBinary(this.limits.binary), SESSION_NICENESS);
    const process = spare?.alive ? spare : new GeneratorProcess(generatorBinary(this.limits.binary), SESSION_NICENESS);
    try {
      // The session's own process, before it holds the snapshot, answers what istiod deploys.
      const timeoutMs = this.limits.requestTimeoutMs * 10;
      const snapshot =
        input ?? (await this.source.sessionInput(snapshotId, (params) => process.request('gatewayDeployments', params, this.limits.requestTimeoutMs)));
      if (!snapshot) throw new SnapshotNotFoundError(`snapshot ${snapshotId} not found`);
      if ('loadParamsJson' in snapshot) await process.requestParamsJson('load', snapshot.loadParamsJson, timeoutMs);
      else await process.request('load', loadParams(snapshot), timeoutMs);
    } catch (error) {
      process.close();
      throw error;
    }
    this.logger.log(`generator session for snapshot ${snapshotId} loaded in ${Date.now() - started} ms`);
    return process;
  }

  private enforceLimits() {
    // The spare process counts too: it is memory the pool holds, though no snapshot's.
    const totalRss = () => [...this.sessions.values()].reduce((sum, s) => sum + (s.process?.rssBytes() ?? 0), this.spare?.rssBytes() ?? 0);
    for (const [id, s] of this.sessions) {
      if (this.sessions.size <= this.limits.maxSessions && totalRss() <= this.limits.maxRssBytes) break;
      if (s.inFlight === 0 && s.process) this.close(id);
    }
  }

  private closeIdle() {
    const now = Date.now();
    for (const [id, s] of this.sessions) if (s.inFlight === 0 && s.process && now - s.lastUsed > this.limits.idleMs) this.close(id);
  }

  private close(snapshotId: string) {
    const s = this.sessions.get(snapshotId);
    this.sessions.delete(snapshotId);
    s?.process?.close();
  }
}
