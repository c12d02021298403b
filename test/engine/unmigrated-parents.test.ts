// A parent the spec does not migrate (posts, holding an org column or not, over the composite-key tables): read as it
// is and said in the plan, run and rollback exact; or refused before any write.
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { makeWorkspace, migrateFully, withMigration, type Workspace } from '../support/migration-helpers';
import { assertSameDigest, databaseDigest } from '../support/cli';
import { schemaFingerprint, tableDigest } from '../support/fingerprint';
import { GUIDE_SPEC } from '../../src/engine/migration-spec/template';
import { asTenant, outsideState } from '../support/tenant-session';
import { DEFAULT_ORG_ID, ORG_PREFIX } from '../fixtures/legacy-data';
import { addCompositeTables, COMPOSITE_TABLES, org, spec } from './support/composite-keys';

describe(`composite keys and unmigrated parents (PostgreSQL ${process.env.TEST_PG_MAJOR ?? 17})`, function () {
  this.timeout(180_000);
  let db: TestDatabase;
  let ws: Workspace;
  beforeEach(async () => {
    db = await createTestDatabase();
    await addCompositeTables(db.client);
    ws = makeWorkspace(spec());
  });
  afterEach(async () => {
    await db.drop();
  });

  describe('a parent the spec does not migrate', () => {
    async function addPosts(orgColumn = true): Promise<void> {
      await db.client
        .query(`CREATE TABLE posts (id bigint PRIMARY KEY, shop_id bigint REFERENCES shops (id), title text NOT NULL${orgColumn ? ', org_id uuid' : ''});
        CREATE TABLE comments (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, post_id bigint REFERENCES posts (id), body text NOT NULL);
        INSERT INTO posts SELECT i, 1 + i % 40, 'post ' || i${orgColumn ? `, CASE WHEN i % 10 = 0 THEN NULL ELSE ('${ORG_PREFIX}' || lpad(to_hex(1 + i % 5), 12, '0'))::uuid END` : ''} FROM generate_series(1, 100) i;
        INSERT INTO comments (post_id, body) SELECT CASE WHEN i % 50 = 0 THEN NULL ELSE 1 + i % 100 END, 'c' || i FROM generate_series(1, 500) i`);
    }
    const withComments = () =>
      makeWorkspace(
        spec({
          tables: [
            ...GUIDE_SPEC.tables,
            COMPOSITE_TABLES[0],
            { name: 'comments', orgFrom: { parent: { table: 'posts', column: 'post_id' } } },
          ],
        }),
      );

    it('with the org column: read as it is, said in the plan; run, rollback exact and the parent untouched', async () => {
      await addPosts();
      ws = withComments();
      const schema = await schemaFingerprint(db.client);
      const before = await databaseDigest(db.client);
      const posts = await tableDigest(db.client, 'posts');
      const plan = await withMigration(db.url, ws, (m) => m.plan());
      const shape = plan.shapes.find((s) => s.kind === 'unmigrated-parent')!;
      assert.match(
        shape.message,
        /public\.comments takes its org from public\.posts by post_id, and the spec does not migrate public\.posts: its org_id values are read as they are/,
      );
      assert.equal(shape.blocking, false);
      assert.equal(
        plan.gaps.tables.find((t) => t.table === 'public.comments')!.rule,
        'parent public.posts (not migrated: its org column is read) via post_id',
      );
      const noOrg = plan.gaps.findings.find((f) => f.table === 'public.comments' && f.kind === 'orphan-child')!;
      assert.equal(noOrg.count, 50);
      assert.match(
        noOrg.message,
        /50 rows have parents in public\.posts \(not migrated\) without an org_id and get the default org/,
      );
      assert.equal(plan.gaps.tables.find((t) => t.table === 'public.comments')!.toDefault, 60);
      await migrateFully(db.url, ws);
      const {
        rows: [r],
      } = await db.client.query(
        `SELECT count(*) FILTER (WHERE c.org_id IS DISTINCT FROM coalesce(p.org_id, $1::uuid))::int AS wrong FROM comments c LEFT JOIN posts p ON p.id = c.post_id`,
        [DEFAULT_ORG_ID],
      );
      assert.equal(r.wrong, 0);
      assert.deepEqual(await tableDigest(db.client, 'posts'), posts, 'the parent was written');
      await db.client.query(`GRANT INSERT, SELECT ON comments TO authenticated`);
      await asTenant(db.client, org(2), () =>
        db.client.query(`INSERT INTO comments (post_id, body) VALUES (1, 'live'), (10, 'live')`),
      );
      const live = (
        await db.client.query(`SELECT array_agg(org_id::text ORDER BY post_id) AS o FROM comments WHERE body = 'live'`)
      ).rows[0].o;
      assert.deepEqual(live, [org(2), org(2)], "post 1 is org 2's; post 10 holds no org: the request's");
      await db.client.query(`DELETE FROM comments WHERE body = 'live'`);
      const { step } = await withMigration(db.url, ws, (m) => m.rollback({ restoreData: false }));
      assert.equal(step.status, 'done', step.summary);
      assert.deepEqual(await schemaFingerprint(db.client), schema);
      assertSameDigest(outsideState(before), outsideState(await databaseDigest(db.client)), 'rollback left a change');
    });

    it('refused before any write: a parent org that is not an org; a parent without the org column (the spec entry that migrates it named)', async () => {
      await addPosts();
      await db.client.query(`UPDATE posts SET org_id = '00000000-0000-0000-0000-0000000000ff' WHERE id = 3`);
      ws = withComments();
      const before = await databaseDigest(db.client);
      const plan = await withMigration(db.url, ws, (m) => m.plan());
      const missing = plan.gaps.findings.find((f) => f.table === 'public.comments' && f.kind === 'missing-org')!;
      assert.equal(missing.blocking, true);
      assert.match(
        missing.message,
        /5 rows have parents in public\.posts \(not migrated\) whose org_id is not an org of public\.orgs/,
      );
      assert.equal((await withMigration(db.url, ws, (m) => m.runAll())).ok, false);
      assertSameDigest(before, await databaseDigest(db.client));

      await db.client.query(`ALTER TABLE posts DROP COLUMN org_id`);
      const dropped = await databaseDigest(db.client);
      const error = await withMigration(db.url, ws, (m) => m.plan()).then(
        () => undefined,
        (e: Error) => e,
      );
      assert.match(
        String(error?.message),
        /tables\[4\]\.orgFrom\.parent\.table public\.posts is not one of the spec's tables and has no org_id column of type uuid/,
      );
      assert.match(
        String((error as { next?: string }).next),
        /Add the parent table to "tables" so it gets its org first: \{ "name": "public\.posts", "orgFrom": \{ "parent": \{ "table": "public\.shops", "column": "shop_id" \} \} \}/,
      );
      await assert.rejects(
        withMigration(db.url, ws, (m) => m.runAll()),
        /public\.posts is not one of the spec's tables/,
      );
      assertSameDigest(dropped, await databaseDigest(db.client));
    });
  });
});
