// A generator process that holds no snapshot, for the requests that need none (`render`,
// `validate`): started on first use, shared by concurrent requests (the generator answers them
// in parallel), closed when idle, restarted once when it died.
import { generatorBinary } from './binary.js';
import { GeneratorProcess } from './generator-process.js';
import { GeneratorError, type Methods } from './protocol.js';

const IDLE_MS = 60_000;
const TIMEOUT_MS = 60_000;

export class StatelessGenerator {
  private process: GeneratorProcess | null = null;
  private idle: NodeJS.Timeout | null = null;
  private inFlight = 0;

  /**
   * binary: the configured generator binary (null: the one `npm ci` built); idleMs: how long the
   * process outlives its last request (Infinity: as long as this object).
   */
  constructor(
    private readonly binary: string | null,
    private readonly idleMs = IDLE_MS,
  ) {}

  /** Starts the process ahead of the first request, which then does not wait for it to start. */
  start(): void {
    if (!this.process?.alive) this.process = new GeneratorProcess(generatorBinary(this.binary));
  }

  async request<M extends 'render' | 'validate' | 'gatewayDeployments'>(method: M, params: Methods[M]['params']): Promise<Methods[M]['result']> {
    for (let attempt = 0; ; attempt++) {
      this.start();
      const process = this.process!;
      this.inFlight++;
      if (this.idle) clearTimeout(this.idle);
      try {
        return await process.request(method, params, TIMEOUT_MS);
      } catch (error) {
        if (error instanceof GeneratorError && (error.code === 'EXITED' || error.code === 'TIMEOUT')) {
          process.close();
          if (this.process === process) this.process = null;
          if (error.code === 'EXITED' && attempt === 0) continue;
        }
        throw error;
      } finally {
        this.inFlight--;
        if (this.inFlight === 0 && Number.isFinite(this.idleMs)) this.idle = setTimeout(() => this.close(), this.idleMs).unref();
      }
    }
  }

  close() {
    if (this.idle) clearTimeout(this.idle);
    this.idle = null;
    this.process?.close();
    this.process = null;
  }
}
