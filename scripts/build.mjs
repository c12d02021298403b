// Bundles the CLI and the extension (Node, CommonJS) and the plan-preview webview (browser).
import * as esbuild from 'esbuild';
import fs from 'node:fs';
import { execFileSync } from 'node:child_process';

const production = process.argv.includes('--production');
const common = { bundle: true, sourcemap: !production, minify: production, logLevel: 'warning', legalComments: 'none' };
const node = { ...common, platform: 'node', format: 'cjs', target: 'node20', mainFields: ['module', 'main'] };

execFileSync(process.execPath, ['--import', 'tsx', 'scripts/emit-schema.ts'], { stdio: 'inherit' });

const builds = [
  esbuild.build({ ...node, entryPoints: ['src/cli/main.ts'], outfile: 'dist/cli.js', banner: { js: '#!/usr/bin/env node' } }),
];
if (fs.existsSync('src/extension/extension.ts')) {
  builds.push(esbuild.build({ ...node, entryPoints: ['src/extension/extension.ts'], outfile: 'dist/extension.js', external: ['vscode'] }));
}
if (fs.existsSync('webview/main.ts')) {
  builds.push(esbuild.build({ ...common, platform: 'browser', format: 'iife', target: 'es2022', entryPoints: ['webview/main.ts'], outfile: 'dist/webview/main.js' }));
}
await Promise.all(builds);
fs.chmodSync('dist/cli.js', 0o755);
// The SQL parser's WASM is loaded lazily next to the bundle that uses it.
fs.copyFileSync('node_modules/libpg-query/wasm/libpg-query.wasm', 'dist/libpg-query.wasm');
