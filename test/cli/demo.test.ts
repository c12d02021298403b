// npm run demo, as a newcomer runs it on a fresh clone: every section succeeds, from the plan to the rollback.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { buildCli } from '../support/cli';

const ROOT = path.join(__dirname, '..', '..');

function runDemo(): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts', 'demo.ts')], {
      cwd: ROOT,
      env: { ...process.env, FORCE_COLOR: '0' },
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

describe('npm run demo', function () {
  this.timeout(300_000);
  before(() => buildCli());

  it('walks plan, generate, tick, run, status and rollback on its own embedded PostgreSQL, and exits 0', async () => {
    const { code, output } = await runDemo();
    assert.equal(code, 0, output);
    assert.match(
      output,
      /\$ tenant-migrate tick full-dump users-notified script-reviewed\n[\s\S]*Every manual prerequisite is ticked\./,
    );
    assert.match(output, /✔ Migrate \([^)]*\) .*rows given their org by the backfill/);
    assert.match(output, /✔ Verify isolation \([^)]*\) \d+ probes held/);
    assert.match(output, /Rolled back\. The legacy schema is back/);
    assert.doesNotMatch(output, /refused|✘/);
    assert.match(output, /npm run demo -- --vscode/);
  });
});
