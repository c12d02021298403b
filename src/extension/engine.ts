// Loads the engine bundle (dist/engine.js) on first use. Only types come from the engine at build time.
import path from 'node:path';
import type * as EngineApi from './engine-api';
import type { ExtensionLog } from './log';

export type Engine = typeof EngineApi;

export class EngineLoader {
  private engine?: Engine;

  constructor(
    private readonly log: ExtensionLog,
    private readonly bundle = path.join(__dirname, 'engine.js'),
  ) {}

  /** The engine if something has loaded it already (never loads it). */
  peek(): Engine | undefined {
    return this.engine;
  }

  get(): Engine {
    if (!this.engine) {
      const started = performance.now();
      // A computed path, so that esbuild leaves this require alone and the engine stays a separate bundle.
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on first use, on purpose
      this.engine = require(this.bundle) as Engine;
      this.log.useRedactor(this.engine.redact);
      this.log.debug(`engine loaded in ${Math.round(performance.now() - started)} ms`);
    }
    return this.engine;
  }
}
