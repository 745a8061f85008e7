// istioctl's tables, printed by istioctl's own Go writers in a generator process that holds no
// snapshot (the `render` method needs none).
import type { RenderParams } from '../generator/protocol.js';
import { StatelessGenerator } from '../generator/stateless-generator.js';

export class IstioctlRenderer {
  private readonly generator: StatelessGenerator;

  /** `binary`: the configured generator binary (null: the one `npm ci` built). */
  constructor(binary: string | null) {
    this.generator = new StatelessGenerator(binary);
  }

  async render(params: RenderParams): Promise<string> {
    return (await this.generator.request('render', params)).output;
  }

  close() {
    this.generator.close();
  }
}
