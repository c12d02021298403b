#!/usr/bin/env node
// npm run test:reliability: the reliability suite (issue 6) and its report (test-results/reliability/RELIABILITY.md).
//   1. the mocha files of test/reliability/ (real PostgreSQL: faults, server faults, rollback exactness, bad input,
//      isolation matrix, secrets and concurrency through the CLI);
//   2. its extension parts in a real VS Code (test/vscode/run-reliability.mjs: secrets, webview CSP, extension + CLI);
//   3. scripts/reliability-report.ts renders test-results/reliability/RELIABILITY.md from what they recorded — also after a
//      failure, which it lists (npm run reliability:publish renders the committed RELIABILITY.md from the same figures).
// Exits non-zero when anything failed. RELIABILITY_SEED=n reproduces the fault points; TM_SKIP_VSCODE=1 leaves out step 2
// while iterating (the report then keeps the extension's last figures).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const FILES = [
  'faults',
  'server-restart',
  'statement-timeouts',
  'rollback-exactness',
  'bad-input',
  'isolation-matrix',
  'secrets',
  'concurrency',
  'lock-timeout',
].map((f) => `test/reliability/${f}.test.ts`);
const timings = [];
let failed = false;

function step(title, command, args) {
  const started = Date.now();
  console.log(`\n▷ ${title}`);
  const r = spawnSync(command, args, { stdio: 'inherit', cwd: ROOT });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  timings.push([title, seconds]);
  console.log(`◁ ${title}: ${seconds} s${r.status === 0 ? '' : ' (FAILED)'}`);
  if (r.status !== 0) failed = true;
}

const started = Date.now();
// A full run starts a fresh store: no figure of an earlier run (or of a file that no longer exists) survives.
if (process.env.TM_SKIP_VSCODE !== '1')
  fs.rmSync(path.join(ROOT, 'test-results', 'reliability', 'figures.json'), { force: true });
step('reliability suite: real PostgreSQL', process.execPath, [
  path.join(ROOT, 'node_modules', 'mocha', 'bin', 'mocha.js'),
  ...FILES,
]);
if (process.env.TM_SKIP_VSCODE !== '1')
  step('reliability suite: the extension in a real VS Code', process.execPath, ['test/vscode/run-reliability.mjs']);
step('test-results/reliability/RELIABILITY.md', process.execPath, [
  path.join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'),
  'scripts/reliability-report.ts',
  `--seconds=${Math.round((Date.now() - started) / 1000)}`,
]);
console.log(
  `\nReliability suite ${failed ? 'FAILED' : 'passed'} in ${((Date.now() - started) / 1000).toFixed(0)} s:\n${timings.map(([t, s]) => `  ${s.padStart(6)} s  ${t}`).join('\n')}`,
);
process.exit(failed ? 1 : 0);
