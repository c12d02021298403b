// tenant-migrate lint FILE…: the built CLI, as CI runs it: file:line:col: rule: message, --json, exit 1 on a hazard.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildCli, runCli } from '../support/cli';
import { legacySpec } from '../fixtures/legacy-data';

describe('tenant-migrate lint', () => {
  let dir: string;
  before(async function () {
    this.timeout(180_000);
    await buildCli();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tm-lint-'));
    fs.writeFileSync(
      path.join(dir, 'bad.sql'),
      "SET lock_timeout = '1s';\nSET statement_timeout = 0;\n\n  CREATE INDEX IF NOT EXISTS i ON credentials (org_id);\nALTER TABLE lookup ENABLE ROW LEVEL SECURITY;\n",
    );
    fs.writeFileSync(
      path.join(dir, 'good.sql'),
      "SET lock_timeout = '1s';\nSET statement_timeout = 0;\nCREATE INDEX CONCURRENTLY IF NOT EXISTS i ON credentials (org_id);\nCREATE TABLE fresh (a int);\n",
    );
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('prints file:line:col: rule: message and exits 1 on a hazard', async () => {
    const r = await runCli(dir, ['lint', 'good.sql', 'bad.sql']);
    assert.equal(r.code, 1, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.match(lines[0]!, /^good\.sql:4:1: not-idempotent: note: CREATE TABLE without IF NOT EXISTS/);
    assert.match(
      lines[1]!,
      /^bad\.sql:4:3: index-concurrently: CREATE INDEX on credentials: holds a SHARE lock .* Instead: CREATE INDEX CONCURRENTLY/,
    );
    assert.match(lines[2]!, /^bad\.sql:5:1: rls-enable-without-force: /);
    assert.equal(lines.at(-1), '2 files linted: 2 hazards, 1 note.');
  });

  it('exits 0 when only notes remain, and 2 on a usage error or a missing file', async () => {
    assert.equal((await runCli(dir, ['lint', 'good.sql'])).code, 0);
    assert.equal((await runCli(dir, ['lint'])).code, 2);
    const missing = await runCli(dir, ['lint', 'nowhere.sql']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /Cannot read nowhere\.sql: ENOENT/);
  });

  it('--json gives the same findings as one document; --exclude and the spec turn rules off and scope RLS', async () => {
    const r = await runCli(dir, ['lint', '--json', 'bad.sql']);
    const doc = JSON.parse(r.stdout) as {
      exitCode: number;
      hazards: number;
      files: { file: string; diagnostics: { rule: string; line: number; column: number; fix?: { text: string } }[] }[];
    };
    assert.equal(doc.exitCode, 1);
    assert.deepEqual(
      doc.files[0]!.diagnostics.map((d) => [d.rule, d.line, d.column]),
      [
        ['index-concurrently', 4, 3],
        ['rls-enable-without-force', 5, 1],
      ],
    );
    assert.equal(doc.files[0]!.diagnostics[0]!.fix!.text, 'INDEX CONCURRENTLY');
    assert.equal(
      (
        await runCli(dir, [
          'lint',
          '--exclude',
          'require-concurrent-index-creation,rls-enable-without-force',
          'bad.sql',
        ])
      ).code,
      0,
    );
    fs.writeFileSync(
      path.join(dir, 'tenant-migration.json'),
      JSON.stringify(legacySpec({ lint: { rules: { 'index-concurrently': false } } })),
    );
    try {
      const scoped = await runCli(dir, ['lint', 'bad.sql']);
      assert.equal(
        scoped.code,
        0,
        `lookup is no tenant table of the spec, and the spec turns index-concurrently off:\n${scoped.stdout}`,
      );
    } finally {
      fs.rmSync(path.join(dir, 'tenant-migration.json'));
    }
  });
});
