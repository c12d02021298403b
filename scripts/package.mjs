#!/usr/bin/env node
// npm run package: a production build (minified, no source maps) and the .vsix, with what it holds and its size.
//   node scripts/package.mjs [--out file.vsix] [--no-build]
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));

function run(command, args) {
  const r = spawnSync(command, args, { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0)
    throw new Error(`${command} ${args.join(' ')} failed (${r.error?.message ?? `exit ${r.status ?? r.signal}`})`);
}

const kB = (bytes) => `${(bytes / 1024).toFixed(1)} kB`;

export function packageVsix({ out = path.join(ROOT, `${manifest.name}-${manifest.version}.vsix`), build = true } = {}) {
  if (build) run(process.execPath, ['scripts/build.mjs', '--production']);
  // Everything is bundled, so no node_modules (--no-dependencies); the manifest has no repository to link to yet, so
  // the extension's page is docs/extension.md (the repository's README links to files that a VSIX does not hold).
  run(process.execPath, [
    path.join(ROOT, 'node_modules/@vscode/vsce/vsce'),
    'package',
    '--no-dependencies',
    '--allow-missing-repository',
    '--readme-path',
    'docs/extension.md',
    '--out',
    out,
  ]);
  const size = fs.statSync(out).size;
  const sizes = [
    'dist/extension.js',
    'dist/services.js',
    'dist/engine.js',
    'dist/libpg-query.wasm',
    'dist/webview/main.js',
  ].map((f) => `  ${f.padEnd(24)} ${kB(fs.statSync(path.join(ROOT, f)).size)}`);
  console.log(`\n${path.relative(process.cwd(), out)}: ${kB(size)}\n${sizes.join('\n')}`);
  return { file: out, size };
}

if (process.argv[1] && pathToFileURL(path.resolve(process.argv[1])).href === import.meta.url) {
  const i = process.argv.indexOf('--out');
  try {
    packageVsix({
      out: i > 0 ? path.resolve(process.argv[i + 1]) : undefined,
      build: !process.argv.includes('--no-build'),
    });
  } catch (error) {
    console.error(`package: ${error.message}`);
    process.exit(1);
  }
}
