// istioctl's tables, printed by istioctl's own Go writers in a generator process that holds no
// snapshot (the `render` method needs none).
import type { RenderParams } from '../generator/protocol.js';
import { StatelessGenerator } from '../generator/stateless-generator.js';

export class IstioctlRenderer {
  private readonly generator = new StatelessGenerator();

  async render(params: RenderParams): Promise<string> {
    return (await this.generator.request('render', params)).output;
  }

  close() {
    this.generator.close();
  }
}
