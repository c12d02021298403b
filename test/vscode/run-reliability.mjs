#!/usr/bin/env node
// The reliability suite's extension parts in a real VS Code (npm run test:reliability runs this after the mocha files):
// build, provision the host (cached in .vscode-test/), start PostgreSQL and seed a template, then the in-host suite
// test/vscode/suite/reliability-{secrets,csp,concurrency}.test.ts (secrets, webview CSP, extension + CLI), whose figures go to
// test-results/reliability/figures.json like the rest of the suite's. Exits non-zero on a failure.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { tsImport } from 'tsx/esm/api';
import { buildTests, ROOT } from './build-tests.mjs';
import { runInHostSuites, specWorkspace } from './in-host.mjs';

const started = Date.now();
const db = await tsImport(pathToFileURL(path.join(ROOT, 'test/vscode/databases.ts')).href, import.meta.url);
let failed = false;
try {
  const built = spawnSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit', cwd: ROOT });
  if (built.status !== 0) throw new Error('node scripts/build.mjs failed');
  await buildTests();
  const { provision } = await import(pathToFileURL(path.join(ROOT, 'scripts/vscode-host/provision.mjs')).href);
  await provision({ quiet: true });
  const template = await db.seeded('tm_vscode_reliability_template');
  const workspace = specWorkspace('tm-vscode-reliability-', db.legacySpec({ batchSize: 100 }));
  await runInHostSuites(workspace, {
    TM_TEST_ADMIN_URL: await db.adminUrl(),
    TM_TEST_TEMPLATE: template,
    TM_TEST_TEMPLATE_MEDIUM: template,
    TM_SUITES: 'reliability-secrets,reliability-csp,reliability-concurrency',
  });
} catch (error) {
  failed = true;
  console.error(`\n✗ the reliability suite in VS Code: ${error.message}`);
} finally {
  await db.stop();
}
console.log(
  `The reliability suite in VS Code ${failed ? 'FAILED' : 'passed'} in ${((Date.now() - started) / 1000).toFixed(1)} s.`,
);
process.exit(failed ? 1 : 0);
