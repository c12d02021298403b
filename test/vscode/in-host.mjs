// Launches the in-host mocha suites (test/vscode/suite/, built into out/vscode-test/) in code-server through
// @vscode/test-electron, on a workspace of their own with a tenant-migration.json. Used by run-all.mjs and
// run-reliability.mjs.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from './build-tests.mjs';

/** A new temporary folder with the given spec as its tenant-migration.json. */
export function specWorkspace(prefix, spec) {
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  fs.writeFileSync(path.join(workspace, 'tenant-migration.json'), JSON.stringify(spec, null, 2));
  return workspace;
}

/** Runs the suites (TM_SUITES in env picks some) in the workspace; rejects when a test fails. */
export async function runInHostSuites(workspace, env) {
  const { runTests } = await import('@vscode/test-electron');
  await runTests({
    vscodeExecutablePath: path.join(ROOT, 'test/vscode/code-shim.js'),
    extensionDevelopmentPath: ROOT,
    extensionTestsPath: path.join(ROOT, 'out/vscode-test/index.js'),
    launchArgs: [workspace],
    extensionTestsEnv: { DATABASE_URL: '', ...env },
  });
}
