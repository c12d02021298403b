// The CLI contract, part 1: exit codes 2 (usage/spec), 4 (connection) and 3 (refused), by spawning node dist/cli.js.
// Every case also proves what the database and the workspace hold afterwards.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../support/database';
import {
  assertSameDigest,
  buildCli,
  databaseDigest,
  migrationTraces,
  passwordOf,
  showsPassword,
  withDatabase,
  withPassword,
  withPort,
  Workspace,
  type CliResult,
} from '../support/cli';
import { legacySpec, ORG_PREFIX } from '../fixtures/legacy-data';

const org = (n: number) => `${ORG_PREFIX}${n.toString(16).padStart(12, '0')}`;

/** One line on stderr, "tenant-migrate: <what> — <what to do next>", and nothing on stdout. */
function assertOneLineError(r: CliResult, code: number, pattern: RegExp): string {
  assert.equal(r.code, code, `exit code ${r.code}, stderr: ${r.stderr}`);
  assert.equal(r.stdout, '', 'nothing on stdout');
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line on stderr, got: ${r.stderr}`);
  assert.match(lines[0]!, /^tenant-migrate: .+ — .+/, 'the line says what to do next after " — "');
  assert.match(lines[0]!, pattern);
  return lines[0]!;
}

/** A local port that nothing listens on. */
async function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

describe('CLI exit codes', function () {
  this.timeout(120_000);
  let db: TestDatabase;
  let ws: Workspace;
  let before_: Record<string, unknown>;

  before(() => buildCli());
  beforeEach(async () => {
    db = await createTestDatabase();
    ws = new Workspace(legacySpec());
    before_ = await databaseDigest(db.client);
  });
  afterEach(async () => {
    ws?.remove();
    await db?.drop();
  });

  async function assertUntouched(): Promise<void> {
    const traces = await migrationTraces(db.client);
    assert.deepEqual(
      traces,
      { stateSchema: false, orgColumns: [], backups: [] },
      'no tenant_migration schema, no org_id column, no backup',
    );
    assertSameDigest(before_, await databaseDigest(db.client));
    assert.ok(
      !ws.files().some((f) => f.startsWith('scripts/') || f.startsWith('.tenant-migration/')),
      `no script or run log written: ${ws.files().join(', ')}`,
    );
  }

  describe('exit 2: usage and spec errors, nothing written', () => {
    const cases: { title: string; args: string[]; setup?: () => void; noUrl?: boolean; expect: RegExp }[] = [
      { title: 'no command', args: [], expect: /No command given — Run one of: init, plan, generate/ },
      {
        title: 'an unknown command',
        args: ['migrat', '--yes'],
        expect:
          /Unknown command "migrat" \(did you mean "migrate"\?\) — Run "tenant-migrate migrate", or one of: .*migrate/,
      },
      {
        title: 'an unknown option',
        args: ['run', '--yes', '--frobnicate'],
        expect: /--frobnicate.* — Run "tenant-migrate --help"/,
      },
      { title: 'an extra argument', args: ['run', 'now', '--yes'], expect: /Unexpected argument "now"/ },
      {
        title: '--restore-data on another command',
        args: ['migrate', '--restore-data', '--yes'],
        expect: /--restore-data only applies to rollback/,
      },
      {
        title: 'malformed spec JSON (names line and column)',
        args: ['run', '--yes'],
        setup: () => ws.writeSpec('{\n  "orgs": { "table": "orgs" },\n  "tables": [ }\n}'),
        expect: /tenant-migration\.json is not valid JSON: \w+ at line 3, column \d+ — Fix the syntax/,
      },
      {
        title: 'an unknown spec field (names it)',
        args: ['run', '--yes'],
        setup: () => ws.writeSpec(legacySpec({ defualtOrgId: 'x' })),
        expect: /unknown field "defualtOrgId"/,
      },
      {
        title: 'a missing spec file (suggests init)',
        args: ['run', '--yes'],
        setup: () => fs.rmSync(ws.specPath),
        expect: /Cannot read the spec .*tenant-migration\.json: no such file — Run "tenant-migrate init"/,
      },
      {
        title: 'no database URL',
        args: ['run', '--yes'],
        noUrl: true,
        expect: /No database given — Pass --database-url URL or set DATABASE_URL/,
      },
      {
        title: 'a database URL that is not postgresql://',
        args: ['run', '--yes', '--database-url', 'mysql://root@localhost/x'],
        noUrl: true,
        expect: /must start with postgresql:\/\//,
      },
      {
        title: 'a writing command without --yes and without a terminal',
        args: ['migrate'],
        expect: /no terminal to confirm it — Pass --yes/,
      },
      {
        title: 'run without --yes and without a terminal',
        args: ['run'],
        expect: /no terminal to confirm it — Pass --yes/,
      },
    ];
    for (const c of cases) {
      it(c.title, async () => {
        c.setup?.();
        const r = await ws.run(c.args, c.noUrl ? {} : { DATABASE_URL: db.url });
        assertOneLineError(r, 2, c.expect);
        assert.ok(!showsPassword(r.stderr, passwordOf(db.url)));
        await assertUntouched();
      });
    }
  });

  describe('exit 4: cannot connect or authenticate', () => {
    it('a wrong password: says so, shows neither password', async () => {
      const wrong = `Wr0ng-${crypto.randomBytes(6).toString('hex')}`;
      const r = await ws.run(['plan', '--database-url', withPassword(db.url, wrong)]);
      const line = assertOneLineError(
        r,
        4,
        /Password authentication failed for postgres@127\.0\.0\.1:\d+\/tm_test_\w+ — Check the user and password/,
      );
      assert.ok(!showsPassword(line, wrong) && !showsPassword(line, passwordOf(db.url)));
      await assertUntouched();
    });

    it('a wrong password with --json: one document, exitCode 4, no password', async () => {
      const wrong = `Wr0ng-${crypto.randomBytes(6).toString('hex')}`;
      const r = await ws.run(['run', '--yes', '--json'], { DATABASE_URL: withPassword(db.url, wrong) });
      assert.equal(r.code, 4);
      const doc = JSON.parse(r.stdout);
      assert.deepEqual(
        { schemaVersion: doc.schemaVersion, ok: doc.ok, exitCode: doc.exitCode, command: doc.command },
        { schemaVersion: 1, ok: false, exitCode: 4, command: 'run' },
      );
      assert.match(doc.error.message, /Password authentication failed/);
      assert.match(doc.error.next, /password/);
      assert.ok(!showsPassword(r.stdout + r.stderr, wrong));
      await assertUntouched();
    });

    it('an unreachable host/port (a closed local port)', async () => {
      const port = await closedPort();
      const r = await ws.run(['run', '--yes'], { DATABASE_URL: withPort(db.url, port) });
      assertOneLineError(
        r,
        4,
        new RegExp(`Nothing accepts connections at 127\\.0\\.0\\.1:${port} — Check the host and port`),
      );
      assert.ok(!showsPassword(r.stderr, passwordOf(db.url)), 'the real password is not shown');
      await assertUntouched();
    });

    it('a database that does not exist', async () => {
      const missing = `tm_missing_${crypto.randomBytes(4).toString('hex')}`;
      const r = await ws.run(['status', '--database-url', withDatabase(db.url, missing)]);
      assertOneLineError(
        r,
        4,
        new RegExp(`Database "${missing}" does not exist on 127\\.0\\.0\\.1:\\d+ — Check the database name`),
      );
      assert.ok(!showsPassword(r.stderr, passwordOf(db.url)));
    });

    it('the password from PGPASSWORD is not shown either', async () => {
      const url = new URL(withDatabase(db.url, `tm_missing_${crypto.randomBytes(4).toString('hex')}`));
      const password = passwordOf(url.toString());
      url.password = '';
      const r = await ws.run(['plan'], { DATABASE_URL: url.toString(), PGPASSWORD: password });
      assertOneLineError(r, 4, /does not exist/);
      assert.ok(!showsPassword(r.stderr, password));
    });
  });

  describe('exit 3: refused', () => {
    async function assertNothingMigrated(): Promise<void> {
      const traces = await migrationTraces(db.client);
      assert.deepEqual(
        { orgColumns: traces.orgColumns, backups: traces.backups },
        { orgColumns: [], backups: [] },
        'no org_id column and no backup',
      );
      const after = await databaseDigest(db.client);
      const publicContents = (d: Record<string, unknown>) =>
        Object.entries(d.contents as Record<string, string>).filter(([t]) => t.startsWith('public.'));
      assert.deepEqual(
        publicContents(after),
        publicContents(before_),
        'every public table holds the same rows, and no table was added',
      );
      assert.deepEqual(
        (after.columns as { schema: string }[]).filter((c) => c.schema === 'public'),
        (before_.columns as { schema: string }[]).filter((c) => c.schema === 'public'),
      );
      assert.deepEqual(after.policies, before_.policies, 'no policy added');
    }

    it('a credential mapped to two existing orgs: run refuses, naming the credential', async () => {
      // Credential 123 is mapped to org 4 by the dataset; a second row maps it to org 2.
      await db.client.query('INSERT INTO legacy_credential_org_map (credential_id, org_id) VALUES (123, $1)', [org(2)]);
      before_ = await databaseDigest(db.client);
      const r = await ws.run(['run', '--yes', '--unticked-ok'], { DATABASE_URL: db.url });
      assert.equal(r.code, 3, `exit code ${r.code}: ${r.errorLines.join(' ')}`);
      assert.equal(r.errorLines.length, 1);
      assert.match(r.errorLines[0]!, /\b123\b/, 'names the credential id');
      assert.match(r.errorLines[0]!, /more than one org|[Cc]onflict/);
      await assertNothingMigrated();
      const runs = await db.client
        .query(`SELECT status FROM tenant_migration.runs`)
        .catch(() => ({ rows: [] as { status: string }[] }));
      assert.ok(
        runs.rows.every((r) => r.status !== 'succeeded'),
        'no run is recorded as succeeded',
      );
    });

    it('a mapping row pointing to an org that does not exist: refused, naming it', async () => {
      const ghost = '00000000-0000-0000-0001-0000000000ff';
      await db.client.query('INSERT INTO legacy_credential_org_map (credential_id, org_id) VALUES (7, $1)', [ghost]);
      before_ = await databaseDigest(db.client);
      const r = await ws.run(['migrate', '--yes', '--unticked-ok'], { DATABASE_URL: db.url });
      assert.equal(r.code, 3, r.stderr);
      assert.equal(r.errorLines.length, 1);
      assert.match(r.errorLines[0]!, new RegExp(ghost));
      assert.match(r.errorLines[0]!, / — /);
      await assertNothingMigrated();
    });

    it('the default org missing: refused, naming it', async () => {
      const missing = '00000000-0000-0000-0000-00000000dead';
      ws.writeSpec(legacySpec({ defaultOrgId: missing }));
      const r = await ws.run(['run', '--yes', '--unticked-ok'], { DATABASE_URL: db.url });
      assert.equal(r.code, 3, `exit code ${r.code}: ${r.errorLines.join(' ')}`);
      assert.match(r.errorLines.join('\n'), new RegExp(`${missing}.* — .*(defaultOrgId|Insert)`));
      await assertNothingMigrated();
    });

    it('a transaction pooler URL (port 6543) is refused without connecting', async function () {
      const server = net.createServer((socket) => {
        connections++;
        socket.destroy();
      });
      let connections = 0;
      const bound = await new Promise<boolean>((resolve) => {
        server.once('error', () => resolve(false));
        server.listen(6543, '127.0.0.1', () => resolve(true));
      });
      try {
        const r = await ws.run(['run', '--yes'], { DATABASE_URL: withPort(db.url, 6543) });
        assertOneLineError(
          r,
          3,
          /127\.0\.0\.1:6543 is a transaction-mode pooler.* — Use the direct connection \(port 5432\) or the session-mode pooler/,
        );
        assert.ok(!showsPassword(r.stderr, passwordOf(db.url)));
        if (bound) assert.equal(connections, 0, 'nothing connected to port 6543');
      } finally {
        await new Promise((resolve) => server.close(resolve));
      }
      await assertUntouched();
    });

    it('rollback --restore-data with no backups is refused and changes nothing', async () => {
      const r = await ws.run(['rollback', '--restore-data', '--yes', '--unticked-ok'], { DATABASE_URL: db.url });
      assert.equal(r.code, 3, r.stderr);
      assert.equal(r.errorLines.length, 1);
      assert.match(
        r.errorLines[0]!,
        /No backup is recorded for public\.credentials, public\.reports, public\.dashboard_layouts — Roll back without --restore-data/,
      );
      await assertNothingMigrated();
      const publicTriggers = (d: Record<string, unknown>) =>
        (d.triggers as { rel: string }[]).filter((t) => !t.rel.startsWith('tenant_migration.'));
      assert.deepEqual(
        publicTriggers(await databaseDigest(db.client)),
        publicTriggers(before_),
        'the legacy trigger is still there, nothing added',
      );
      assert.equal(publicTriggers(before_).length, 1);
    });

    it('another session holds the run lock: refused, naming its pid and since when', async () => {
      const holder = new pg.Client(db.url);
      holder.on('error', () => undefined);
      await holder.connect();
      try {
        const pid = (await holder.query('SELECT pg_backend_pid() AS pid')).rows[0].pid as number;
        await holder.query('SELECT pg_advisory_lock(7447313001)');
        const r = await ws.run(['run', '--yes', '--unticked-ok'], { DATABASE_URL: db.url });
        assert.equal(r.code, 3, r.stderr);
        assert.equal(r.errorLines.length, 1);
        assert.match(
          r.errorLines[0]!,
          new RegExp(`Another migration run holds the lock.*pid ${pid}\\b.*since \\d{4}-\\d\\d-\\d\\dT`),
        );
        assert.match(r.errorLines[0]!, / — .*pg_terminate_backend/);
        await assertNothingMigrated();
        const stillHeld = await db.client.query(
          `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND pid = $1 AND granted`,
          [pid],
        );
        assert.equal(stillHeld.rows[0].n, 1, 'the holder keeps its lock');
      } finally {
        await holder.end();
      }
    });
  });
});
