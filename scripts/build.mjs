// Bundles the CLI and the extension (Node, CommonJS) and the plan-preview webview (browser).
import * as esbuild from 'esbuild';
import fs from 'node:fs';
import { execFileSync } from 'node:child_process';

const production = process.argv.includes('--production');
const common = { bundle: true, sourcemap: !production, minify: production, logLevel: 'warning', legalComments: 'none' };
const node = { ...common, platform: 'node', format: 'cjs', target: 'node20', mainFields: ['module', 'main'] };

execFileSync(process.execPath, ['--import', 'tsx', 'scripts/emit-schema.ts'], { stdio: 'inherit' });

const builds = [
  esbuild.build({
    ...node,
    entryPoints: ['src/cli/main.ts'],
    outfile: 'dist/cli.js',
    banner: { js: '#!/usr/bin/env node' },
  }),
];
if (fs.existsSync('src/extension/extension.ts')) {
  // Activation loads only dist/extension.js (it registers, src/extension/startup.ts); the services (the composition
  // root and zod/mini for the settings) are dist/services.js, required right after activation or on first use; the
  // engine (pg, zod, libpg-query) and the plan preview's host are dist/engine.js, required on first use
  // (src/extension/engine.ts), so activation stays light.
  builds.push(
    esbuild.build({
      ...node,
      entryPoints: ['src/extension/extension.ts'],
      outfile: 'dist/extension.js',
      external: ['vscode'],
    }),
  );
  builds.push(
    esbuild.build({
      ...node,
      entryPoints: ['src/extension/services.ts'],
      outfile: 'dist/services.js',
      external: ['vscode'],
    }),
  );
  builds.push(
    esbuild.build({
      ...node,
      entryPoints: ['src/extension/engine-api.ts'],
      outfile: 'dist/engine.js',
      external: ['vscode'],
    }),
  );
}
if (fs.existsSync('webview/main.ts')) {
  builds.push(
    esbuild.build({
      ...common,
      platform: 'browser',
      format: 'iife',
      target: 'es2022',
      entryPoints: ['webview/main.ts'],
      outfile: 'dist/webview/main.js',
    }),
  );
  // Everything the webview loads lives in dist/webview (its only localResourceRoot): the stylesheet and codicons.
  fs.mkdirSync('dist/webview/codicons', { recursive: true });
  fs.copyFileSync('media/plan-preview.css', 'dist/webview/plan-preview.css');
  for (const file of ['codicon.css', 'codicon.ttf'])
    fs.copyFileSync(`node_modules/@vscode/codicons/dist/${file}`, `dist/webview/codicons/${file}`);
}
await Promise.all(builds);
fs.chmodSync('dist/cli.js', 0o755);
// The SQL parser's WASM is loaded lazily next to the bundle that uses it.
fs.copyFileSync('node_modules/libpg-query/wasm/libpg-query.wasm', 'dist/libpg-query.wasm');
