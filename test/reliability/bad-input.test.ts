// More bad input, through the CLI (`run --yes`, the command that writes the most): connection settings (SSL, URL
// syntax, hosts), spec shapes, objects that are not what the spec says (a view, a ledger table of another shape, a
// script with a syntax error), a user that owns the tables but may not create the state schema, an orgs id of another
// type. Each must end in one line naming the field or object and the fix, with the right exit code, and a digest
// proves the database unchanged. (test/cli/bad-input*.test.ts and cli-exit-codes.test.ts hold the first ~70 cases;
// a standby in recovery is in server-restart.test.ts, which has a server of its own.)
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { figures } from './support/figures';
import { cloneDatabase, templateDatabase } from './support/databases';
import { adminQuery, type TestDatabase } from '../support/database';
import { buildCli, databaseDigest, digestChanges, passwordOf, showsPassword, Workspace } from '../support/cli';
import { legacySpec, SMALL } from '../fixtures/legacy-data';

const fig = figures(__filename);

interface Case {
  readonly title: string;
  readonly spec?: Record<string, unknown> | string;
  /** The database URL to pass (default: the test database's). */
  readonly url?: (db: TestDatabase) => string | Promise<string>;
  readonly setup?: (db: TestDatabase, ws: Workspace) => Promise<unknown> | void;
  readonly code: number;
  readonly what: RegExp;
  readonly next: RegExp;
  /** Files the case itself put in the workspace besides the spec. */
  readonly ownFiles?: string[];
  /** Found inside `run` (after the spec was read): the run's report is written, as for every run. */
  readonly report?: boolean;
}

const urlWith = (db: TestDatabase, change: (u: URL) => void) => {
  const u = new URL(db.url);
  change(u);
  return u.toString();
};
const roles: string[] = [];

const CASES: Case[] = [
  // Connection settings
  {
    title: 'sslmode=require against a server without SSL',
    url: (db) => urlWith(db, (u) => u.searchParams.set('sslmode', 'require')),
    code: 4,
    what: /127\.0\.0\.1:\d+ does not accept SSL, and sslmode=require requires it/,
    next: /Enable SSL on the server, or use sslmode=prefer\/disable/,
  },
  {
    title: 'sslmode=verify-full with an sslrootcert file that does not exist',
    url: (db) =>
      urlWith(db, (u) => {
        u.searchParams.set('sslmode', 'verify-full');
        u.searchParams.set('sslrootcert', '/nonexistent/root.crt');
      }),
    code: 2,
    what: /sslrootcert.*\/nonexistent\/root\.crt/,
    next: /CA certificate|sslrootcert/,
  },
  {
    title: 'an sslmode libpq does not know',
    url: (db) => urlWith(db, (u) => u.searchParams.set('sslmode', 'on')),
    code: 2,
    what: /sslmode=on is not a libpq sslmode/,
    next: /Use one of disable, allow, prefer, require, verify-ca, verify-full/,
  },
  {
    title: 'a password with a malformed percent-encoding in the URL',
    url: (db) => db.url.replace(/:([^:@/]+)@/, ':%E0%A4%A@'),
    code: 2,
    what: /database URL/i,
    next: /percent-encode|%25|Write it as postgresql:\/\//i,
  },
  {
    title: 'a port out of range',
    url: (db) => db.url.replace(/:(\d+)\//, ':99999/'),
    code: 2,
    what: /The database URL is not a valid URL/,
    next: /postgresql:\/\/USER@HOST:PORT\/DATABASE/,
  },
  {
    title: 'a host name that does not resolve',
    url: (db) =>
      urlWith(db, (u) => {
        u.hostname = 'tm-no-such-host.invalid';
      }),
    code: 4,
    what: /The host tm-no-such-host\.invalid cannot be resolved/,
    next: /Check the host name/,
  },
  // Spec shapes
  {
    title: 'an empty spec file',
    spec: '',
    code: 2,
    what: /tenant-migration\.json is not valid JSON: \w+ at line 1, column 1/,
    next: /Fix the syntax/,
  },
  {
    title: 'a spec that is a JSON array',
    spec: '[{"orgs": {"table": "orgs"}}]',
    code: 2,
    what: /tenant-migration\.json is invalid: field \(top level\): is a list, expected an object/,
    next: /Fix the field named/,
  },
  {
    title: 'an empty list of tables',
    spec: legacySpec({ tables: [], tenantCredentials: undefined }),
    code: 2,
    what: /invalid: field tables: must list at least one table/,
    next: /Fix the field named/,
  },
  {
    title: 'an org column name past the 63-character identifier limit',
    spec: legacySpec({ orgColumn: `org_${'x'.repeat(60)}` }),
    code: 2,
    what: /invalid: field orgColumn: is longer than PostgreSQL's 63-byte identifier limit/,
    next: /Fix the field named/,
  },
  {
    title: 'a tenant-context kind that does not exist',
    spec: legacySpec({ tenantContext: { kind: 'jwt', claim: 'org_id' } }),
    code: 2,
    what: /invalid: field tenantContext\.kind: .*'supabase-jwt' \| 'setting'/,
    next: /Fix the field named/,
  },
  {
    title: '--config naming a folder',
    spec: legacySpec(),
    code: 2,
    what: /Cannot read the spec .*: EISDIR/,
    next: /--config PATH/,
  },
  // Objects that are not what the spec says
  {
    title: 'a view named as a table to migrate',
    spec: legacySpec({
      tables: [{ name: 'credentials_view', orgFrom: { mapping: { column: 'id' } } }],
      tenantCredentials: undefined,
    }),
    setup: (db) => db.client.query('CREATE VIEW credentials_view AS SELECT * FROM credentials'),
    code: 2,
    what: /credentials_view \(spec field tables\[0\]\.name\)/,
    next: /fix the name|table/,
  },
  {
    title: 'defaultOrgId that does not fit a bigint orgs id',
    spec: legacySpec({
      orgs: { table: 'orgs_by_number', idColumn: 'id' },
      mapping: undefined,
      tables: [
        {
          name: 'dashboard_layouts',
          orgFrom: { query: { column: 'user_id', sql: 'SELECT user_id AS key, 1::bigint AS org_id FROM org_members' } },
        },
      ],
      tenantCredentials: undefined,
    }),
    setup: (db) =>
      db.client.query('CREATE TABLE orgs_by_number (id bigint PRIMARY KEY); INSERT INTO orgs_by_number VALUES (1)'),
    code: 2,
    what: /defaultOrgId "00000000-0000-0000-0000-000000000001" is not a valid bigint/,
    next: /Write a bigint value|bigint/,
  },
  {
    title: 'a table of another shape already named like the tenant ledger',
    spec: legacySpec(),
    setup: (db) => db.client.query('CREATE TABLE tenant_credentials (id serial PRIMARY KEY, note text)'),
    code: 2,
    what: /tenant_credentials.*tenantCredentials\.table|tenantCredentials\.table.*tenant_credentials/,
    next: /rename|another name|drop/i,
  },
  {
    title: "the team's script with a syntax error (nothing may run before it is found)",
    spec: legacySpec(),
    setup: (_db, ws) => {
      fs.mkdirSync(ws.file('scripts'));
      fs.writeFileSync(
        ws.scriptPath,
        "SET lock_timeout = '1s';\nALTER TABLE credentials ADD COLUMN org_id uuid;\nUPDATE credentials SET org_id = NULL WHER id = 1;\n",
      );
    },
    ownFiles: ['scripts/migrate_to_multitenant.sql'],
    report: true,
    code: 2,
    what: /line 3\b.*syntax error at or near "WHER"/,
    next: /Fix|fix/,
  },
  // Users
  {
    title: 'a user that owns the tables but may not create the state schema',
    spec: legacySpec(),
    url: async (db) => {
      const role = `tm_rel_owner_${crypto.randomBytes(3).toString('hex')}`;
      roles.push(role);
      const password = crypto.randomBytes(9).toString('hex');
      await adminQuery(`CREATE ROLE "${role}" LOGIN BYPASSRLS PASSWORD '${password}'`);
      await db.client
        .query(`REVOKE CREATE ON DATABASE "${db.name}" FROM PUBLIC; REVOKE CREATE ON SCHEMA public FROM PUBLIC;
        GRANT USAGE ON SCHEMA public TO "${role}";
        ALTER TABLE credentials OWNER TO "${role}"; ALTER TABLE reports OWNER TO "${role}"; ALTER TABLE dashboard_layouts OWNER TO "${role}";
        GRANT SELECT ON ALL TABLES IN SCHEMA public TO "${role}";`);
      return urlWith(db, (u) => {
        u.username = role;
        u.password = password;
      });
    },
    code: 1,
    what: /tm_rel_owner_\w+ may not create the state schema tenant_migration in tm_rel_\w+/,
    next: /GRANT CREATE ON DATABASE tm_rel_\w+ TO tm_rel_owner_\w+/,
  },
];

describe('bad input, more cases: one line naming the field or object and the fix, nothing changed', function () {
  this.timeout(120_000);
  let template: string;
  before(async () => {
    template = await templateDatabase(SMALL);
    await buildCli();
  });
  after(async () => {
    for (const r of roles) await adminQuery(`DROP ROLE IF EXISTS "${r}"`).catch(() => undefined);
  });

  for (const c of CASES) {
    it(c.title, async () => {
      const db = await cloneDatabase(template);
      const ws = new Workspace(c.spec ?? legacySpec());
      try {
        await c.setup?.(db, ws);
        const url = c.url ? await c.url(db) : db.url;
        const before = await databaseDigest(db.client);
        // The refusals under test come from the input; the unticked manual prerequisites are not what is tested.
        const args = ['run', '--yes', '--unticked-ok', ...(c.title.startsWith('--config') ? ['--config', ws.dir] : [])];
        const r = await ws.run(args, { DATABASE_URL: url });
        const lines = r.stderr.trimEnd().split('\n');
        const match = /^tenant-migrate: (.+?) — (.+)$/.exec(lines.at(-1) ?? '');
        const changes = digestChanges(before, await databaseDigest(db.client));
        // A refusal after the spec was read may leave the generated script and the run's report, never anything else.
        const allowed = (f: string) =>
          f === 'tenant-migration.json' ||
          (c.ownFiles ?? []).includes(f) ||
          ((c.report || (c.code !== 2 && c.code !== 4)) &&
            (f === 'scripts/migrate_to_multitenant.sql' || f.startsWith('.tenant-migration/reports/')));
        const files = ws.files().filter((f) => !allowed(f));
        const clear =
          r.code === c.code && lines.length === 1 && !!match && c.what.test(match[1]!) && c.next.test(match[2]!);
        fig.record({
          kind: 'bad-input',
          case: c.title,
          clearError: clear,
          nothingChanged: changes.length === 0 && files.length === 0,
        });

        assert.equal(r.code, c.code, `exit code ${r.code}: ${r.stderr.slice(-800)}`);
        // A refusal inside `run` still says where the generated script and the report went; nothing else goes to stdout.
        assert.deepEqual(
          r.stdout
            .split('\n')
            .filter(
              (l) =>
                l &&
                !(
                  (c.report || (c.code !== 2 && c.code !== 4)) &&
                  /^(Generated .* from the spec\.|Report: .*)$/.test(l)
                ),
            ),
          [],
        );
        assert.equal(lines.length, 1, `one line on stderr: ${r.stderr.slice(-800)}`);
        assert.ok(match, `"<what> — <next>": ${lines[0]}`);
        assert.match(match[1]!, c.what);
        assert.match(match[2]!, c.next);
        assert.ok(!showsPassword(r.stderr, passwordOf(db.url)), 'the password is not shown');
        assert.deepEqual(changes, [], 'the database changed');
        assert.deepEqual(files, [], 'files were written');
      } finally {
        ws.remove();
        await db.drop();
      }
    });
  }
});
