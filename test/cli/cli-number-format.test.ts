// Counts as people read them, everywhere the CLI prints: thousands separators, and "1 row" / "3 rows", never "row(s)".
import assert from 'node:assert/strict';
import { buildCli, Workspace } from '../support/cli';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { legacySpec } from '../fixtures/legacy-data';
import { NOTES } from '../fixtures/odd-tables';
import { GUIDE_SPEC } from '../../src/engine/migration-spec/template';

/** Numbers of four digits or more that count something: not years, times, ids, line numbers or milliseconds. */
const UNFORMATTED = /(?<![\w.:-])(?<!line )\d{4,}(?![\w.:/-]) (?!ms\b)[a-z]+/g;

describe('CLI: counts are formatted in every output', function () {
  this.timeout(300_000);
  let db: TestDatabase;
  let ws: Workspace;
  before(async () => {
    await buildCli();
    db = await createTestDatabase({
      seed: { orgs: 5, users: 300, credentials: 3_000, reports: 12_000, layouts: 1_200 },
    });
    await db.client.query(NOTES);
    await db.client.query(
      `INSERT INTO "Team Notes" (credential_id, n, title, kind) SELECT id, 1, 'note ' || id, 'plain' FROM credentials WHERE id <= 1500`,
    );
  });
  after(async () => {
    ws?.remove();
    await db?.drop();
  });

  it('run, status and rollback: no "(s)", every count of 1,000 or more with separators', async () => {
    ws = new Workspace(
      legacySpec({
        batchSize: 1_000,
        tables: [
          ...GUIDE_SPEC.tables,
          { name: 'Team Notes', orgFrom: { parent: { table: 'credentials', column: 'credential_id' } } },
        ],
      }),
    );
    const outputs: Record<string, string> = {};
    for (const [name, args] of [
      ['tick', ['tick', 'full-dump', 'users-notified', 'script-reviewed']],
      ['run', ['run', '--yes']],
      ['status', ['status']],
      ['rollback', ['rollback', '--yes']],
      ['status after rollback', ['status']],
    ] as const) {
      const r = await ws.run([...args], { DATABASE_URL: db.url });
      assert.equal(r.code, 0, `${name}:\n${r.stdout}${r.stderr}`);
      outputs[name] = r.stdout + r.stderr;
    }
    for (const [name, text] of Object.entries(outputs)) {
      assert.doesNotMatch(text, /\w\(s\)/, `${name}: no "(s)"`);
      assert.deepEqual(text.match(UNFORMATTED) ?? [], [], `${name}: counts without separators:\n${text}`);
    }
    // The counts are there, formatted: the backup's and the backfill's totals, the rows per table.
    assert.match(outputs.run!, /public\.reports \[#+\] 100% 12,000 rows given their org/);
    assert.match(outputs.run!, /✔ Back up \([^)]*, 17,700 rows\) 4 backups, 17,700 rows/);
    assert.match(outputs.run!, /1,500(\/1,500)? rows/, 'Team Notes');
  });
});
