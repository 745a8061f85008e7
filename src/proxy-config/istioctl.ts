// istioctl's tables, printed by istioctl's own Go writers in a generator process that holds no
// snapshot (the `render` method needs none): one process, started on first use, closed when idle.
import { generatorBinary } from '../generator/binary.js';
import { GeneratorProcess } from '../generator/generator-process.js';
import { GeneratorError, type RenderParams } from '../generator/protocol.js';

const IDLE_MS = 60_000;
const TIMEOUT_MS = 60_000;

export class IstioctlRenderer {
  private process: GeneratorProcess | null = null;

  /** `binary`: the configured generator binary (null: the one `npm ci` built). */
  constructor(private readonly binary: string | null) {}

  private idle: NodeJS.Timeout | null = null;
  private inFlight = 0;

  async render(params: RenderParams): Promise<string> {
    for (let attempt = 0; ; attempt++) {
      if (!this.process?.alive) this.process = new GeneratorProcess(generatorBinary(this.binary));
      const process = this.process;
      this.inFlight++;
      if (this.idle) clearTimeout(this.idle);
      try {
        return (await process.request('render', params, TIMEOUT_MS)).output;
      } catch (error) {
        if (error instanceof GeneratorError && (error.code === 'EXITED' || error.code === 'TIMEOUT')) {
          process.close();
          if (this.process === process) this.process = null;
          if (error.code === 'EXITED' && attempt === 0) continue;
        }
        throw error;
      } finally {
        this.inFlight--;
        if (this.inFlight === 0) this.idle = setTimeout(() => this.close(), IDLE_MS).unref();
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
