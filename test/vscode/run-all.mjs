#!/usr/bin/env node
// The extension's tests in a real VS Code (scripts/test.mjs runs this): build, provision the host (cached), start
// PostgreSQL and seed it, then
//   1. the in-host integration suites, launched with @vscode/test-electron through code-shim.js (trusted workspace);
//   2. the Workspace Trust suite in an untrusted workspace (nothing connects: a TCP listener proves it);
//   3. the UI end-to-end test: the packaged VSIX, "Tenant Migration: Run" from the palette, screenshots in light
//      and dark themes into test-results/screenshots/.
// Exits non-zero on any failure. While iterating locally (never in CI): TM_SKIP_UI=1 leaves out step 3, TM_ONLY_UI=1
// runs only step 3, TM_SUITES=a,b runs only those in-host suites.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { tsImport } from 'tsx/esm/api';
import { buildTests, ROOT } from './build-tests.mjs';
import { runInHostSuites, specWorkspace } from './in-host.mjs';

const timings = [];
async function phase(title, fn) {
  const started = Date.now();
  console.log(`\n▷ ${title}`);
  try {
    return await fn();
  } finally {
    const s = ((Date.now() - started) / 1000).toFixed(1);
    timings.push([title, s]);
    console.log(`◁ ${title}: ${s} s`);
  }
}

function run(command, args, options = {}) {
  const r = spawnSync(command, args, { stdio: 'inherit', cwd: ROOT, ...options });
  if (r.status !== 0)
    throw new Error(`${command} ${args.join(' ')} failed (${r.error?.message ?? `exit ${r.status ?? r.signal}`})`);
}

const db = await tsImport(pathToFileURL(path.join(ROOT, 'test/vscode/databases.ts')).href, import.meta.url);
let failed = false;
try {
  await phase('build the extension and the in-host suites', async () => {
    run(process.execPath, ['scripts/build.mjs']);
    await buildTests();
  });
  const { provision } = await import(pathToFileURL(path.join(ROOT, 'scripts/vscode-host/provision.mjs')).href);
  await phase('provision the VS Code host (cached in .vscode-test/)', () => provision({ quiet: false }));
  const [template, medium] = await phase('start PostgreSQL and seed the legacy dataset', async () => [
    await db.seeded('tm_vscode_template'),
    await db.seeded('tm_vscode_medium', db.MEDIUM),
  ]);

  const workspace = specWorkspace(
    'tm-vscode-ws-',
    db.legacySpec({
      batchSize: 100,
      // The project's own test command: it must get the connection as DATABASE_URL.
      tests: [
        {
          name: 'DATABASE_URL reaches the project tests',
          command: 'node -e "process.exit(process.env.DATABASE_URL ? 0 : 1)"',
        },
      ],
    }),
  );

  if (process.env.TM_ONLY_UI !== '1')
    await phase('in-host integration tests (@vscode/test-electron → code-server)', async () =>
      runInHostSuites(workspace, {
        TM_TEST_ADMIN_URL: await db.adminUrl(),
        TM_TEST_TEMPLATE: template,
        TM_TEST_TEMPLATE_MEDIUM: medium,
      }),
    );

  if (process.env.TM_ONLY_UI !== '1')
    await phase('Workspace Trust: an untrusted workspace connects to nothing', async () => {
      const { runUntrusted } = await import('./untrusted-host.mjs');
      const untrusted = fs.mkdtempSync(path.join(os.tmpdir(), 'tm-vscode-untrusted-'));
      fs.copyFileSync(path.join(workspace, 'tenant-migration.json'), path.join(untrusted, 'tenant-migration.json'));
      const code = await runUntrusted({
        workspace: untrusted,
        extensionDevelopmentPath: ROOT,
        extensionTestsPath: path.join(ROOT, 'out/vscode-test/index.js'),
        env: { TM_SUITES: 'untrusted', DATABASE_URL: '' },
      });
      if (code !== 0) throw new Error(`the untrusted-workspace suite failed (exit ${code})`);
    });

  if (process.env.TM_SKIP_UI !== '1') {
    const ui = await phase('seed the dataset for the UI test', () => db.seeded('tm_vscode_ui_template', db.UI_SIZE));
    const { packageVsix } = await import(pathToFileURL(path.join(ROOT, 'scripts/package.mjs')).href);
    const vsix = await phase('package the VSIX (npm run package)', () =>
      packageVsix({ out: path.join(ROOT, 'out/tenant-migration-test.vsix') }),
    );
    const shots = await phase('UI end-to-end: "Tenant Migration: Run" from the palette, screenshots', async () => {
      const { runE2E } = await import('./ui/e2e.mjs');
      return runE2E({ vsix: vsix.file, db, template: ui, screenshots: path.join(ROOT, 'test-results/screenshots') });
    });
    console.log(`Screenshots:\n${shots.map((s) => `  ${path.relative(ROOT, s)}`).join('\n')}`);
  }
} catch (error) {
  failed = true;
  console.error(`\n✗ ${error.message}`);
} finally {
  await db.stop();
}
console.log(
  `\nVS Code tests ${failed ? 'FAILED' : 'passed'}:\n${timings.map(([t, s]) => `  ${s.padStart(6)} s  ${t}`).join('\n')}`,
);
process.exit(failed ? 1 : 0);
