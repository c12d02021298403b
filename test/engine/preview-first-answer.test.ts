// The preview's two answers (issue 17 target 5): a first one from the catalog and samples, marked as estimates, with
// the exact blocking checks it has not answered listed; then the exact one, equal to plan({ exact: true })'s blocking
// findings. Tables above the first answer's exact limit (50,000 rows), a partitioned table among them.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { makeWorkspace, withMigration, type Workspace } from '../support/migration-helpers';
import { spec as partitionedSpec } from './support/partitions';
import { growPartitioned, LARGE, ROWS } from './support/preview';
import { FIRST_ANSWER_EXACT_UP_TO_ROWS } from '../../src/engine/gap-queries';
import type { Plan } from '../../src/engine/plan';
import type { GapReport } from '../../src/engine/gaps';
import { ORG_PREFIX } from '../fixtures/legacy-data';

const blockingOf = (g: GapReport) =>
  g.findings
    .filter((f) => f.blocking)
    .map((f) => `${f.table} ${f.kind} ${f.count}`)
    .sort();

async function twoAnswers(
  url: string,
  ws: Workspace,
): Promise<{ first?: Plan; exact: Plan; firstBeforeExact: boolean }> {
  let first: Plan | undefined;
  let resolved = false;
  let firstBeforeExact = false;
  const exact = await withMigration(url, ws, (m) =>
    m
      .plan({
        onFirstAnswer: (p) => {
          first = p;
          firstBeforeExact = !resolved;
        },
      })
      .finally(() => (resolved = true)),
  );
  return { first, exact, firstBeforeExact };
}

describe('preview: the first answer, then the exact checks', function () {
  this.timeout(240_000);
  let db: TestDatabase;
  let ws: Workspace;
  before(async () => {
    db = await createTestDatabase({ seed: LARGE });
    await growPartitioned(db.client);
    ws = makeWorkspace(partitionedSpec());
  });
  after(async () => {
    await db?.drop();
  });

  it('the first answer marks its estimates and what is still being checked; the exact one matches plan({ exact: true })', async () => {
    assert.ok(ROWS > FIRST_ANSWER_EXACT_UP_TO_ROWS);
    const { first, exact, firstBeforeExact } = await twoAnswers(db.url, ws);
    assert.ok(first, 'a first answer came');
    assert.ok(firstBeforeExact, 'the first answer came before the exact one');
    const estimatedTables = first.gaps.tables.filter((t) => t.estimated).map((t) => t.table);
    for (const t of ['public.credentials', 'public.reports', 'public.events'])
      assert.ok(estimatedTables.includes(t), `${t} is estimated in the first answer (${estimatedTables.join(', ')})`);
    // The mapping has no unique key nor a foreign key to the orgs: neither check is proven by the catalog.
    assert.ok(
      first.gaps.pending?.some((p) => p === 'public.credentials: keys mapped to two orgs'),
      String(first.gaps.pending),
    );
    assert.ok(first.gaps.pending?.some((p) => p === 'public.credentials: orgs that do not exist'));
    assert.equal(first.gaps.blocking, false);
    // The rest of the plan is whole in the first answer already.
    assert.equal(first.statements.length, exact.statements.length);
    assert.deepEqual(first.shapes, exact.shapes);
    assert.ok(first.disk && first.disk.backups > 0);

    assert.equal(exact.gaps.pending, undefined, 'the exact answer has nothing pending');
    const counted = await withMigration(db.url, ws, (m) => m.plan({ exact: true }));
    assert.deepEqual(blockingOf(exact.gaps), blockingOf(counted.gaps));
    assert.ok(!exact.gaps.findings.some((f) => f.estimated));
    // The estimates are near the exact counts (within 10% of the table).
    for (const t of first.gaps.tables) {
      const c = counted.gaps.tables.find((x) => x.table === t.table)!;
      assert.ok(Math.abs(t.toDefault - c.toDefault) <= 0.1 * c.rows, `${t.table}: ${t.toDefault} vs ${c.toDefault}`);
    }
  });

  it('a small database has one answer: the first is the exact one, so no first answer is given', async () => {
    const small = await createTestDatabase();
    try {
      const { first, exact } = await twoAnswers(small.url, makeWorkspace());
      assert.equal(first, undefined);
      assert.equal(exact.gaps.pending, undefined);
      assert.ok(exact.gaps.tables.every((t) => !t.estimated));
    } finally {
      await small.drop();
    }
  });

  it('a key mapped to two orgs that the sample cannot see: the first answer leaves it pending, the exact one blocks', async () => {
    const conflicted = await createTestDatabase({ seed: LARGE });
    try {
      // Many stale mapping rows make the sample a small share of the mapping; the conflicting row goes at its end.
      await conflicted.client
        .query(`INSERT INTO legacy_credential_org_map SELECT 10000000 + i, o.id FROM generate_series(1, 250000) i,
        LATERAL (SELECT id FROM orgs ORDER BY id LIMIT 1 OFFSET 3) o;
        INSERT INTO legacy_credential_org_map SELECT 3, id FROM orgs WHERE id NOT IN (SELECT org_id FROM legacy_credential_org_map WHERE credential_id = 3) ORDER BY id LIMIT 1;
        ANALYZE`);
      const { first, exact } = await twoAnswers(conflicted.url, makeWorkspace());
      assert.ok(first);
      assert.equal(first.gaps.blocking, false, 'the sample did not see the conflict');
      assert.ok(
        first.gaps.pending?.includes('public.credentials: keys mapped to two orgs'),
        'nor did it claim the mapping clear',
      );
      assert.equal(exact.gaps.blocking, true);
      const conflict = exact.gaps.findings.find((f) => f.kind === 'conflict')!;
      assert.equal(conflict.count, 1);
      assert.equal(conflict.samples[0]!.key, '3');
    } finally {
      await conflicted.drop();
    }
  });

  it('orgs that do not exist, found in the sample: the first answer blocks with an estimate, the exact one counts them', async () => {
    const missing = await createTestDatabase({ seed: LARGE });
    try {
      await missing.client
        .query(`UPDATE legacy_credential_org_map SET org_id = '00000000-0000-0000-0009-000000000001' WHERE credential_id % 10 = 0;
        ANALYZE`);
      const exactCount = Number(
        (await missing.client.query(`SELECT count(*) FROM legacy_credential_org_map WHERE credential_id % 10 = 0`))
          .rows[0].count,
      );
      const { first, exact } = await twoAnswers(missing.url, makeWorkspace());
      const estimated = first!.gaps.findings.find((f) => f.kind === 'missing-org')!;
      assert.equal(first!.gaps.blocking, true);
      assert.equal(estimated.estimated, true);
      assert.match(
        estimated.message,
        /^about [\d,]+ mapping rows \(estimated from a sample\) point to an org that does not exist/,
      );
      assert.ok(Math.abs(estimated.count - exactCount) < 0.2 * exactCount, `${estimated.count} vs ${exactCount}`);
      const counted = exact.gaps.findings.find((f) => f.kind === 'missing-org')!;
      assert.equal(counted.count, exactCount);
      assert.equal(counted.estimated, undefined);
    } finally {
      await missing.drop();
    }
  });

  it('a large child of a parent the spec does not migrate: its orgs sampled, a missing one blocks; the exact answer counts', async () => {
    const child = await createTestDatabase();
    try {
      await child.client.query(`CREATE TABLE posts (id bigint PRIMARY KEY, title text NOT NULL, org_id uuid);
        INSERT INTO posts SELECT i, 'post ' || i, CASE WHEN i % 10 = 0 THEN NULL WHEN i % 10 = 1 THEN '00000000-0000-0000-0009-000000000001'
          ELSE ('${ORG_PREFIX}' || lpad(to_hex(1 + i % 5), 12, '0'))::uuid END FROM generate_series(1, 100) i;
        CREATE TABLE comments (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, post_id bigint REFERENCES posts (id), body text NOT NULL);
        INSERT INTO comments (post_id, body) SELECT 1 + i % 100, 'c' || i FROM generate_series(1, ${ROWS}) i;
        ANALYZE`);
      const spec = JSON.parse(fs.readFileSync(makeWorkspace().specFile, 'utf8'));
      const ws1 = makeWorkspace({
        tables: [...spec.tables, { name: 'comments', orgFrom: { parent: { table: 'posts', column: 'post_id' } } }],
      });
      const { first, exact } = await twoAnswers(child.url, ws1);
      const missing = (g: GapReport) =>
        g.findings.find((f) => f.table === 'public.comments' && f.kind === 'missing-org')!;
      assert.equal(first!.gaps.tables.find((t) => t.table === 'public.comments')!.estimated, true);
      assert.equal(missing(first!.gaps).estimated, true);
      assert.equal(first!.gaps.blocking, true);
      assert.equal(missing(exact.gaps).count, ROWS / 10);
      const toDefault = (g: GapReport) => g.tables.find((t) => t.table === 'public.comments')!.toDefault;
      assert.equal(toDefault(exact.gaps), ROWS / 10);
      assert.ok(Math.abs(toDefault(first!.gaps) - ROWS / 10) < ROWS / 50, String(toDefault(first!.gaps)));
    } finally {
      await child.drop();
    }
  });

  it('a mapping with a unique key and a foreign key to the orgs: the catalog answers both checks in the first answer', async () => {
    const keyed = await createTestDatabase({ seed: LARGE });
    try {
      await keyed.client.query(`DELETE FROM legacy_credential_org_map a USING legacy_credential_org_map b
          WHERE a.ctid > b.ctid AND a.credential_id = b.credential_id;
        DELETE FROM legacy_credential_org_map m WHERE NOT EXISTS (SELECT 1 FROM orgs o WHERE o.id = m.org_id);
        ALTER TABLE legacy_credential_org_map ADD UNIQUE (credential_id), ADD FOREIGN KEY (org_id) REFERENCES orgs;
        ANALYZE`);
      const spec = JSON.parse(fs.readFileSync(makeWorkspace().specFile, 'utf8'));
      // Only the mapped table: its checks are the ones the catalog can prove.
      const ws1 = makeWorkspace({ tables: spec.tables.filter((t: { name: string }) => t.name === 'credentials') });
      const { first, exact } = await twoAnswers(keyed.url, ws1);
      assert.ok(first, 'the counts are estimated, so a first answer comes');
      assert.deepEqual(first.gaps.pending, []);
      assert.equal(first.gaps.blocking, false);
      assert.equal(exact.gaps.blocking, false);
    } finally {
      await keyed.drop();
    }
  });
});
