// Shared by the bad-input CLI tests (bad-input-spec, bad-input-injection): node dist/cli.js run --yes, the command that
// writes the most; every case must end in ONE line naming the field or object and the fix, the right exit code, and a
// database exactly as it was before.
import assert from 'node:assert/strict';
import type pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../../support/database';
import { assertSameDigest, buildCli, databaseDigest, Workspace } from '../../support/cli';
import { legacySpec } from '../../fixtures/legacy-data';

export type Spec = Record<string, unknown>;
export const TABLES = legacySpec().tables as Spec[];
export const [CREDENTIALS, REPORTS, LAYOUTS] = TABLES as [Spec, Spec, Spec];
export const withTables = (...tables: Spec[]) => legacySpec({ tables });
export const layoutsQuery = (sql: string) =>
  withTables(CREDENTIALS, REPORTS, { name: 'dashboard_layouts', orgFrom: { query: { column: 'user_id', sql } } });
export const INJECT = 'x; DROP TABLE orgs; --';

export interface Case {
  readonly title: string;
  readonly spec: Spec;
  readonly setup?: (client: pg.Client) => Promise<unknown>;
  readonly code?: number;
  /** What is wrong: must name the field or the object. */
  readonly what: RegExp;
  /** What to do next (after " — "). */
  readonly next: RegExp;
}

/** The suite (same title as before the split) with its hooks, and one `it` per case under `title`. */
export function badInputSuite(title: string, cases: readonly Case[]): void {
  describe('bad input: one line naming the field and the fix, the right exit code, nothing changed', function () {
    this.timeout(120_000);
    let db: TestDatabase;
    let ws: Workspace;

    before(() => buildCli());
    beforeEach(async () => {
      db = await createTestDatabase();
      ws = new Workspace();
    });
    afterEach(async () => {
      ws?.remove();
      await db?.drop();
    });

    async function check(c: Case): Promise<void> {
      await c.setup?.(db.client);
      const before = await databaseDigest(db.client);
      ws.writeSpec(c.spec);
      const r = await ws.run(['run', '--yes'], { DATABASE_URL: db.url });
      assert.equal(r.code, c.code ?? 2, `exit code ${r.code}: ${r.stderr}`);
      assert.equal(r.stdout, '');
      const lines = r.stderr.trimEnd().split('\n');
      assert.equal(lines.length, 1, `one line on stderr: ${r.stderr}`);
      const match = /^tenant-migrate: (.+?) — (.+)$/.exec(lines[0]!);
      assert.ok(match, `"<what> — <next>": ${lines[0]}`);
      assert.match(match[1]!, c.what);
      assert.match(match[2]!, c.next);
      const after = await databaseDigest(db.client);
      assertSameDigest(before, after);
      assert.ok(
        (after.tables as { schema: string; name: string }[]).some((t) => t.schema === 'public' && t.name === 'orgs'),
        'orgs still exists',
      );
      assert.deepEqual(ws.files(), ['tenant-migration.json'], 'no script, log or report written');
    }

    describe(title, () => {
      for (const c of cases) it(c.title, () => check(c));
    });
  });
}
