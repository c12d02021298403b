// `tenant-migrate plan` on tables past the first answer's exact limit: the first answer at once (estimates marked,
// what is still being checked said plainly), then the exact checks; --json prints the exact answer alone.
import assert from 'node:assert/strict';
import { buildCli, Workspace } from '../support/cli';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { legacySpec } from '../fixtures/legacy-data';
import { GUIDE_SPEC } from '../../src/engine/migration-spec/template';
import { growPartitioned, LARGE } from '../engine/support/preview';

describe('CLI: plan gives a first answer, then the exact checks', function () {
  this.timeout(180_000);
  let db: TestDatabase;
  let ws: Workspace;
  before(async () => {
    await buildCli();
    db = await createTestDatabase({ seed: LARGE });
    await growPartitioned(db.client);
    // A key mapped to two orgs, appended after many stale rows: the sample does not see it, the exact check does.
    await db.client
      .query(`INSERT INTO legacy_credential_org_map SELECT 10000000 + i, o.id FROM generate_series(1, 250000) i,
        LATERAL (SELECT id FROM orgs ORDER BY id LIMIT 1 OFFSET 3) o;
      INSERT INTO legacy_credential_org_map SELECT 3, id FROM orgs WHERE id NOT IN (SELECT org_id FROM legacy_credential_org_map WHERE credential_id = 3) ORDER BY id LIMIT 1;
      ANALYZE`);
    ws = new Workspace(
      legacySpec({
        tables: [
          ...GUIDE_SPEC.tables,
          { name: 'events', orgFrom: { parent: { table: 'credentials', column: 'credential_id' } } },
        ],
      }),
    );
  });
  after(async () => {
    ws?.remove();
    await db?.drop();
  });

  it('prints the first answer, says what is being checked, then the exact checks with the conflict', async () => {
    const r = await ws.run(['plan'], { DATABASE_URL: db.url });
    assert.equal(r.code, 3, `${r.stdout}\n${r.stderr}`); // refused: the conflict blocks a run
    const out = r.stdout;
    const checking = out.indexOf('This is a first answer (estimates). Checking every row for what blocks a run …');
    const exact = out.indexOf('Exact checks answered:');
    assert.ok(checking > 0 && exact > checking, out);
    const first = out.slice(0, checking);
    const rest = out.slice(exact);
    // The first answer: the whole plan, its estimates marked, nothing cleared, the pending checks named.
    assert.match(first, /^Statements \(\d+\):$/m);
    assert.match(first, /^Disk: about [\d.]+ MB needed at the run's peak; /m);
    assert.match(
      first,
      /public\.credentials \(mapping .*\): ≈[\d,]+ by rule, ≈[\d,]+ to the default org, of ≈60,000 \(estimated from a sample/,
    );
    assert.match(first, /public\.events \(parent .*\): ≈/);
    assert.match(
      first,
      /Not checked yet over every row \(nothing is cleared until they answer\): public\.credentials: keys mapped to two orgs; public\.credentials: orgs that do not exist/,
    );
    assert.doesNotMatch(first, /No blocking|will refuse/);
    // Then the exact checks: the conflict, and the refusal.
    assert.match(rest, /✘ public\.credentials: 1 key maps to more than one org in the mapping table/);
    assert.match(rest, /e\.g\. 3 \(maps to /);
    assert.match(rest, /The run will refuse until the conflicts above are resolved\./);
    assert.doesNotMatch(rest, /No blocking|Not checked yet/);
  });

  it('--json prints the exact answer alone', async () => {
    const r = await ws.run(['plan', '--json'], { DATABASE_URL: db.url });
    const doc = JSON.parse(r.stdout);
    assert.equal(doc.result.gaps.pending, undefined);
    assert.equal(doc.result.gaps.blocking, true);
    assert.ok(doc.result.disk.needed > doc.result.disk.backups);
  });
});
