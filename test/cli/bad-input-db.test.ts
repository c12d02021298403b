// Bad input, part 2: awkward but valid names that must work, injection into the names the migration creates,
// users that cannot do the job, and a bad spec through every command. (A standby in recovery cannot easily be made
// with the embedded server, so the "Primary server" prerequisite is not exercised here.)
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { adminQuery, createTestDatabase, type TestDatabase } from '../support/database';
import {
  assertSameDigest,
  buildCli,
  databaseDigest,
  passwordOf,
  showsPassword,
  withPassword,
  Workspace,
} from '../support/cli';
import { legacySpec } from '../fixtures/legacy-data';

const ORG_A = '00000000-0000-0000-0000-00000000000a';
const ORG_B = '00000000-0000-0000-0000-00000000000b';
const DEFAULT_ORG = '00000000-0000-0000-0000-000000000001';

describe('bad input: names, users and commands', function () {
  this.timeout(180_000);
  let db: TestDatabase;
  let ws: Workspace;
  let role: string | undefined;

  before(() => buildCli());
  beforeEach(async () => {
    db = await createTestDatabase();
    ws = new Workspace(legacySpec());
    role = undefined;
  });
  afterEach(async () => {
    ws?.remove();
    await db?.drop();
    if (role) await adminQuery(`DROP ROLE IF EXISTS "${role}"`);
  });

  /** A login role with a known password; returns its database URL. */
  async function loginRole(options: string): Promise<{ url: string; password: string }> {
    role = `tm_role_${crypto.randomBytes(4).toString('hex')}`;
    const password = crypto.randomBytes(12).toString('hex');
    await adminQuery(`CREATE ROLE "${role}" LOGIN PASSWORD '${password}' ${options}`);
    const url = new URL(withPassword(db.url, password));
    url.username = role;
    return { url: url.toString(), password };
  }

  it('identifiers with quotes, spaces, dots and capitals that exist: a full run works on them', async () => {
    await db.client.query(`
      CREATE SCHEMA "Tenant Data";
      GRANT USAGE ON SCHEMA "Tenant Data" TO authenticated, anon, service_role;
      ALTER DEFAULT PRIVILEGES IN SCHEMA "Tenant Data" GRANT ALL ON TABLES TO authenticated, service_role;
      CREATE TABLE "Tenant Data"."Org ""Units""" ("Org Id" uuid PRIMARY KEY, "Name" text NOT NULL);
      INSERT INTO "Tenant Data"."Org ""Units""" VALUES ('${DEFAULT_ORG}', 'default'), ('${ORG_A}', 'A'), ('${ORG_B}', 'B');
      CREATE TABLE "Tenant Data"."Cred ""X""" ("Cred Id" bigint PRIMARY KEY, "Secret Value" text NOT NULL);
      INSERT INTO "Tenant Data"."Cred ""X""" SELECT i, 'secret ' || i FROM generate_series(1, 30) i;
      CREATE TABLE "Tenant Data"."Report.Items" ("ID" bigint PRIMARY KEY, "Cred Ref" bigint REFERENCES "Tenant Data"."Cred ""X""" ("Cred Id") ON DELETE CASCADE);
      INSERT INTO "Tenant Data"."Report.Items" SELECT i, 1 + i % 30 FROM generate_series(1, 90) i;
      CREATE TABLE "Tenant Data"."Map ""M""" ("Cred Key" bigint, "Org Ref" uuid);
      INSERT INTO "Tenant Data"."Map ""M""" SELECT i, CASE WHEN i % 2 = 0 THEN '${ORG_A}'::uuid ELSE '${ORG_B}'::uuid END FROM generate_series(1, 25) i;`);
    const publicBefore = (await databaseDigest(db.client)).contents as Record<string, string>;
    ws.writeSpec({
      orgs: { table: '"Tenant Data"."Org ""Units"""', idColumn: 'Org Id' },
      defaultOrgId: DEFAULT_ORG,
      mapping: { table: '"Tenant Data"."Map ""M"""', keyColumn: 'Cred Key', orgColumn: 'Org Ref' },
      orgColumn: 'Tenant ID',
      tables: [
        {
          name: '"Tenant Data"."Report.Items"',
          orgFrom: { parent: { table: '"Tenant Data"."Cred ""X"""', column: 'Cred Ref' } },
        },
        { name: '"Tenant Data"."Cred ""X"""', orgFrom: { mapping: { column: 'Cred Id' } } },
      ],
      tenantCredentials: { table: '"Tenant Data"."Tenant Creds"', from: '"Tenant Data"."Cred ""X"""' },
      tenantContext: { kind: 'supabase-jwt', claim: 'org_id' },
    });
    await ws.tickAll({ DATABASE_URL: db.url });
    const r = await ws.run(['run', '--yes', '--json', '--enforce', '--app-sends-context'], { DATABASE_URL: db.url });
    const doc = JSON.parse(r.stdout);
    assert.equal(
      r.code,
      0,
      JSON.stringify(
        doc.error ?? doc.result?.steps?.filter((s: { status: string }) => s.status === 'failed'),
        null,
        1,
      )?.slice(0, 3000),
    );
    assert.deepEqual(
      doc.result.steps.map((s: { step: string; status: string }) => `${s.step}:${s.status}`),
      [
        'prerequisites:done',
        'preview:done',
        'backup:done',
        'migrate:done',
        'validate:done',
        'isolation:done',
        'tests:skipped',
        'enforce:done',
      ],
    );

    const byOrg = await db.client.query(
      `SELECT "Tenant ID"::text AS org, count(*)::int AS n FROM "Tenant Data"."Cred ""X""" GROUP BY 1 ORDER BY 1`,
    );
    assert.deepEqual(
      byOrg.rows,
      [
        { org: DEFAULT_ORG, n: 5 },
        { org: ORG_A, n: 12 },
        { org: ORG_B, n: 13 },
      ],
      'mapped by the quoted mapping table, the rest to the default org',
    );
    const children = await db.client.query(
      `SELECT count(*)::int AS n FROM "Tenant Data"."Report.Items" r JOIN "Tenant Data"."Cred ""X""" c ON c."Cred Id" = r."Cred Ref" WHERE r."Tenant ID" IS DISTINCT FROM c."Tenant ID"`,
    );
    assert.equal(children.rows[0].n, 0, "every child row has its parent's org");
    const rls = await db.client
      .query(`SELECT c.relname, c.relrowsecurity AND c.relforcerowsecurity AS forced, a.attnotnull AS not_null
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'Tenant ID'
       WHERE n.nspname = 'Tenant Data' AND c.relkind = 'r' ORDER BY 1`);
    assert.deepEqual(rls.rows, [
      { relname: 'Cred "X"', forced: true, not_null: true },
      { relname: 'Report.Items', forced: true, not_null: true },
    ]);
    assert.equal(
      (await db.client.query(`SELECT count(*)::int AS n FROM "Tenant Data"."Tenant Creds"`)).rows[0].n,
      30,
      'the ledger has one row per credential',
    );
    const publicAfter = (await databaseDigest(db.client)).contents as Record<string, string>;
    const inPublic = (c: Record<string, string>) => Object.entries(c).filter(([t]) => t.startsWith('public.'));
    assert.deepEqual(inPublic(publicAfter), inPublic(publicBefore), 'the public schema is untouched');
  });

  it('injection into the names the migration creates (orgColumn, tenantCredentials.table, tenantContext.claim) stays a name', async () => {
    const orgColumn = 'org_id" text; DROP TABLE orgs; --';
    const ledger = 'tenant_credentials"; DROP TABLE orgs; --';
    const claim = "org_id'); DROP TABLE orgs; --";
    const orgsBefore = ((await databaseDigest(db.client)).contents as Record<string, string>)['public.orgs'];
    ws.writeSpec(
      legacySpec({
        orgColumn,
        tenantCredentials: { table: ledger, from: 'credentials' },
        tenantContext: { kind: 'supabase-jwt', claim },
      }),
    );
    await ws.tickAll({ DATABASE_URL: db.url });
    const r = await ws.run(['run', '--yes'], { DATABASE_URL: db.url });
    assert.equal(r.code, 0, r.stderr.split('\n').slice(-12).join('\n'));
    assert.equal(
      ((await databaseDigest(db.client)).contents as Record<string, string>)['public.orgs'],
      orgsBefore,
      'orgs still exists, unchanged',
    );
    const column = await db.client.query(
      `SELECT attnotnull FROM pg_attribute WHERE attrelid = 'credentials'::regclass AND attname = $1`,
      [orgColumn],
    );
    assert.deepEqual(column.rows, [{ attnotnull: true }], 'the org column has exactly the name given');
    assert.equal(
      (await db.client.query(`SELECT to_regclass($1) IS NOT NULL AS ok`, [`"${ledger.replace(/"/g, '""')}"`])).rows[0]
        .ok,
      true,
      'the ledger has exactly the name given',
    );
    const policy = await db.client.query(
      `SELECT qual FROM pg_policies WHERE tablename = 'credentials' AND policyname = 'tenant_migration_isolation'`,
    );
    assert.ok(
      policy.rows[0]?.qual.includes(`'org_id''); DROP TABLE orgs; --'::text`),
      `the claim is a string literal in the policy: ${policy.rows[0]?.qual}`,
    );
  });

  it('a read-only user: the prerequisites fail with a clear error, nothing written', async () => {
    const { url, password } = await loginRole('SUPERUSER');
    await adminQuery(`ALTER ROLE "${role}" IN DATABASE "${db.name}" SET default_transaction_read_only = on`);
    const before = await databaseDigest(db.client);
    const r = await ws.run(['run', '--yes', '--unticked-ok'], { DATABASE_URL: url });
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.errorLines.length, 1, r.stderr);
    assert.match(r.stderr, /read-only|default_transaction_read_only/);
    assert.match(r.stderr, /user that can write|another user|writable|primary/, `says what to do: ${r.stderr}`);
    assert.ok(!showsPassword(r.stderr + r.stdout, password));
    assertSameDigest(before, await databaseDigest(db.client));
  });

  it('a user without privileges on the tables: a clear error naming the table and the fix, nothing written', async () => {
    const { url, password } = await loginRole('');
    const before = await databaseDigest(db.client);
    const r = await ws.run(['run', '--yes', '--unticked-ok'], { DATABASE_URL: url });
    assert.equal(r.code, 1, `a failed prerequisite, not a spec error: ${r.stderr}`);
    assert.equal(r.errorLines.length, 1, r.stderr);
    assert.match(r.stderr, /permission denied for table \w+|lacks .*privilege|must own|Owner of/);
    assert.match(r.stderr, / — .*(owner|GRANT|privilege)/i, `says what to do: ${r.stderr}`);
    assert.ok(!showsPassword(r.stderr + r.stdout, password));
    assertSameDigest(before, await databaseDigest(db.client));
  });

  it('a user that can read the tables but does not own them: the prerequisites name the owner, nothing written', async () => {
    const { url } = await loginRole('BYPASSRLS');
    await db.client.query(`GRANT SELECT ON ALL TABLES IN SCHEMA public TO "${role}"`);
    const before = await databaseDigest(db.client);
    const r = await ws.run(['run', '--yes', '--unticked-ok'], { DATABASE_URL: url });
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.errorLines.length, 1, r.stderr);
    assert.match(r.stderr, /Owner of public\.credentials|must own|owner/, r.stderr);
    assert.match(r.errorLines[0]!, / — /);
    assertSameDigest(before, await databaseDigest(db.client));
  });

  describe('a spec naming a missing column, through every command: exit 2, nothing written', () => {
    const commands = [
      ['plan'],
      ['generate'],
      ['status'],
      ['report'],
      ['backup', '--yes'],
      ['migrate', '--yes'],
      ['validate'],
      ['verify-isolation'],
      ['rollback', '--yes'],
      ['rollback', '--restore-data', '--yes'],
      ['finalize', '--yes'],
      ['cleanup', '--yes'],
      ['run', '--yes'],
    ];
    for (const args of commands) {
      it(args.join(' '), async () => {
        ws.writeSpec(
          legacySpec({
            tables: [{ name: 'credentials', orgFrom: { mapping: { column: 'idd' } } }],
            tenantCredentials: undefined,
          }),
        );
        const before = await databaseDigest(db.client);
        const r = await ws.run(args, { DATABASE_URL: db.url });
        assert.equal(r.code, 2, r.stderr);
        assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
        assert.match(
          r.errorLines[0]!,
          /Column "idd" \(spec field tables\[0\]\.orgFrom\.mapping\.column\) does not exist in public\.credentials — Use one of its columns/,
        );
        assert.ok(!showsPassword(r.stderr, passwordOf(db.url)));
        assertSameDigest(before, await databaseDigest(db.client), 'nothing was written');
        assert.deepEqual(ws.files(), ['tenant-migration.json']);
      });
    }
  });
});
