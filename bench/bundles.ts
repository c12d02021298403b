// Issue 5 item 4, the part that needs no VS Code: the sizes of the extension's bundles. `node scripts/build.mjs`
// (the project's build, as npm test runs it) and, for what a release ships, the same entry points minified
// into .bench/bundles (dist is left as the build made it).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

export interface BundleSize {
  readonly file: string;
  readonly what: string;
  readonly budgetBytes?: number;
  readonly bytes?: number;
  readonly gzipBytes?: number;
  readonly minifiedBytes?: number;
}

const ROOT = path.join(__dirname, '..');

function size(file: string): { bytes?: number; gzipBytes?: number } {
  const full = path.join(ROOT, file);
  if (!fs.existsSync(full)) return {};
  const data = fs.readFileSync(full);
  return { bytes: data.length, gzipBytes: zlib.gzipSync(new Uint8Array(data)).length };
}

async function minified(entry: string, platform: 'node' | 'browser'): Promise<number | undefined> {
  if (!fs.existsSync(path.join(ROOT, entry))) return undefined;
  const esbuild = await import('esbuild');
  const outfile = path.join(
    ROOT,
    '.bench',
    'bundles',
    `${path.basename(path.dirname(entry))}-${path.basename(entry, '.ts')}.js`,
  );
  await esbuild.build({
    entryPoints: [path.join(ROOT, entry)],
    outfile,
    bundle: true,
    minify: true,
    legalComments: 'none',
    logLevel: 'silent',
    ...(platform === 'node'
      ? { platform: 'node', format: 'cjs', target: 'node20', mainFields: ['module', 'main'], external: ['vscode'] }
      : { platform: 'browser', format: 'iife', target: 'es2022' }),
  });
  return fs.statSync(outfile).size;
}

const EXTENSION_BUDGET = 1.5 * 1024 * 1024;

export async function measureBundles(): Promise<{ built: boolean; buildError?: string; sizes: BundleSize[] }> {
  const build = spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT, encoding: 'utf8' });
  const built = build.status === 0;
  // The extension's JavaScript is three bundles: what activation loads, the services right after it, the engine on
  // first use (src/extension/startup.ts, engine.ts). The budget holds for the first alone and for the three together.
  const parts: BundleSize[] = [
    {
      file: 'dist/extension.js',
      what: 'extension JavaScript loaded at activation',
      budgetBytes: EXTENSION_BUDGET,
      ...size('dist/extension.js'),
      minifiedBytes: await minified('src/extension/extension.ts', 'node').catch(() => undefined),
    },
    {
      file: 'dist/services.js',
      what: 'extension JavaScript: the services (right after activation)',
      ...size('dist/services.js'),
      minifiedBytes: await minified('src/extension/services.ts', 'node').catch(() => undefined),
    },
    {
      file: 'dist/engine.js',
      what: 'extension JavaScript: the engine (on first use)',
      ...size('dist/engine.js'),
      minifiedBytes: await minified('src/extension/engine-api.ts', 'node').catch(() => undefined),
    },
  ].filter((b) => b.bytes !== undefined || b.file === 'dist/extension.js');
  const sum = (f: (b: BundleSize) => number | undefined) =>
    parts.every((b) => f(b) !== undefined) ? parts.reduce((n, b) => n + f(b)!, 0) : undefined;
  const sizes: BundleSize[] = [
    ...parts,
    {
      file: parts.map((b) => b.file).join(' + '),
      what: 'extension JavaScript bundle, all of it',
      budgetBytes: EXTENSION_BUDGET,
      bytes: sum((b) => b.bytes),
      gzipBytes: sum((b) => b.gzipBytes),
      minifiedBytes: sum((b) => b.minifiedBytes),
    },
    {
      file: 'dist/webview/main.js',
      what: 'webview bundle',
      budgetBytes: 300 * 1024,
      ...size('dist/webview/main.js'),
      minifiedBytes: await minified('webview/main.ts', 'browser').catch(() => undefined),
    },
    {
      file: 'dist/libpg-query.wasm',
      what: 'SQL parser WASM (loaded lazily, counted apart)',
      ...size('dist/libpg-query.wasm'),
    },
    { file: 'dist/cli.js', what: 'CLI bundle (no budget)', ...size('dist/cli.js') },
  ];
  return {
    built,
    buildError: built ? undefined : (build.stderr || build.stdout).trim().split('\n').slice(-5).join('\n'),
    sizes,
  };
}
