// Rollback exactness: after a full migration and after migrations cut at several points, `rollback` gives back exactly
// the legacy database — every row with every column (timestamps included), identity sequences, grants, foreign keys
// (still validated, still cascading), triggers (still firing), existing policies (still applied) and RLS flags.
// `rollback --restore-data` after a partial migration equals the backups; it refuses (exit 3, nothing changed) when a
// backup is gone or no longer matches its digest. (test/engine/rollback.test.ts covers rows written since, a
// cancelled migration, refusing to lose rows, a tampered backup through the engine, and dependent views.)
import assert from 'node:assert/strict';
import pg from 'pg';
import { figures } from './support/figures';
import { FAULT_DATASET, cloneDatabase, referenceRun, templateDatabase, waitForBackendGone } from './support/databases';
import { backupIntact, backupStates, legacyRows, legacyState, rowsLost, stateDiff } from './support/states';
import { makeWorkspace, openMigration, withMigration } from '../support/migration-helpers';
import { assertSameDigest, buildCli, databaseDigest, Workspace } from '../support/cli';
import { legacySpec, USER_PREFIX } from '../fixtures/legacy-data';
import type { EngineEvent } from '../../src/engine/events';
import type { TestDatabase } from '../support/database';

const fig = figures(__filename);
const SPEC = { batchSize: 100 };

/** The legacy behaviour, exercised (and undone): the updated_at trigger fires, the cascade deletes, the owner-only policy filters. */
async function legacyBehaviour(client: pg.Client): Promise<Record<string, unknown>> {
  await client.query('BEGIN');
  try {
    await client.query(`UPDATE credentials SET provider = provider WHERE id = 2`);
    const touched = (await client.query(`SELECT updated_at > created_at AS touched FROM credentials WHERE id = 2`))
      .rows[0].touched as boolean;
    const children = Number(
      (await client.query(`SELECT count(*) AS n FROM reports WHERE credential_id = 3`)).rows[0].n,
    );
    await client.query(`DELETE FROM credentials WHERE id = 3`);
    const cascaded =
      Number((await client.query(`SELECT count(*) AS n FROM reports WHERE credential_id = 3`)).rows[0].n) === 0 &&
      children > 0;
    const user = `${USER_PREFIX}${(1).toString(16).padStart(12, '0')}`;
    await client.query(`SET LOCAL ROLE authenticated`);
    await client.query(`SELECT set_config('request.jwt.claims', $1, true)`, [
      JSON.stringify({ sub: user, role: 'authenticated' }),
    ]);
    const visible = (await client.query(`SELECT DISTINCT user_id::text FROM credentials`)).rows.map((r) => r.user_id);
    return { touched, cascaded, ownerOnly: visible.length === 1 && visible[0] === user };
  } finally {
    await client.query('ROLLBACK');
  }
}

/**
 * What an application that does not set org_id yet writes after the migration: new credentials (identity values taken),
 * their reports, an edit, a delete that cascades, a new layout. Explicit timestamps, so the same writes on two databases
 * give the same rows.
 */
async function applicationWrites(client: pg.Client): Promise<void> {
  const at = '2026-01-02 03:04:05+00';
  await client.query(
    `INSERT INTO credentials (user_id, provider, secret, created_at, updated_at)
    SELECT $1::uuid, 'written-since-' || i, 'secret-' || i, $2, $2 FROM generate_series(1, 3) i`,
    [`${USER_PREFIX}${(1).toString(16).padStart(12, '0')}`, at],
  );
  await client.query(
    `INSERT INTO reports (credential_id, title, created_at) SELECT id, 'report written since', $1 FROM credentials WHERE provider LIKE 'written-since-%'`,
    [at],
  );
  await client.query(`UPDATE reports SET title = title || ' (edited since)' WHERE id % 10 = 0`);
  await client.query(`DELETE FROM credentials WHERE id = 5`);
  await client.query(
    `INSERT INTO dashboard_layouts (id, user_id, layout, updated_at) VALUES ('00000000-0000-0000-0009-000000000001', $1, '{"since": true}', $2)`,
    [`${USER_PREFIX}${(2).toString(16).padStart(12, '0')}`, at],
  );
}

describe('rollback exactness', function () {
  this.timeout(180_000);
  let template: string;
  let db: TestDatabase;
  let pre: Record<string, unknown>;
  before(async () => {
    template = await templateDatabase(FAULT_DATASET);
    await buildCli();
  });
  beforeEach(async () => {
    db = await cloneDatabase(template);
    pre = await legacyState(db.client);
  });
  afterEach(async () => {
    await db.drop();
  });

  async function assertLegacyAgain(what: string): Promise<void> {
    const diff = stateDiff(pre, await legacyState(db.client));
    const behaviour = await legacyBehaviour(db.client);
    const exact = diff.length === 0 && Object.values(behaviour).every(Boolean);
    fig.record({ kind: 'rollback', case: what, exact });
    assert.deepEqual(diff, [], `${what}: the database is not exactly the legacy one`);
    assert.deepEqual(
      behaviour,
      { touched: true, cascaded: true, ownerOnly: true },
      'the legacy trigger, cascade and policy work',
    );
  }

  it('after a full migration through the CLI (run, then rollback): exactly the legacy database', async () => {
    const ws = new Workspace(legacySpec(SPEC));
    try {
      await ws.tickAll({ DATABASE_URL: db.url });
      const run = await ws.run(['run', '--yes'], { DATABASE_URL: db.url });
      assert.equal(run.code, 0, run.stderr);
      assert.notDeepEqual(stateDiff(pre, await legacyState(db.client)), [], 'the migration changed the schema');
      const r = await ws.run(['rollback', '--yes', '--json'], { DATABASE_URL: db.url });
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.equal(JSON.parse(r.stdout).result.status, 'done');
      await assertLegacyAgain('full migration, rollback (CLI)');
    } finally {
      ws.remove();
    }
  });

  it('after a full migration and rows the application wrote since: the rows are kept — the legacy database with the same writes, exactly', async () => {
    // The twin never migrated: the same writes on it give what the rolled-back database must be, sequences included.
    const twin = await cloneDatabase(template);
    try {
      const ws = makeWorkspace(SPEC);
      const result = await withMigration(db.url, ws, (m) => m.runAll());
      assert.ok(result.ok, result.error?.oneLine);
      await applicationWrites(db.client);
      await applicationWrites(twin.client);
      const { step } = await withMigration(db.url, ws, (m) => m.rollback({ restoreData: false }));
      assert.equal(step.status, 'done', step.summary);
      const diff = stateDiff(await legacyState(twin.client), await legacyState(db.client));
      const kept = Number(
        (await db.client.query(`SELECT count(*) AS n FROM credentials WHERE provider LIKE 'written-since-%'`)).rows[0]
          .n,
      );
      const behaviour = await legacyBehaviour(db.client);
      fig.record({
        kind: 'rollback',
        case: 'full migration, rows written since kept (rollback equals the legacy database with the same writes)',
        exact: diff.length === 0 && kept === 3 && Object.values(behaviour).every(Boolean),
      });
      assert.equal(kept, 3, 'the credentials written since are kept');
      assert.deepEqual(diff, [], 'the rolled-back database differs from the legacy one with the same writes');
      assert.deepEqual(behaviour, { touched: true, cascaded: true, ownerOnly: true });
    } finally {
      await twin.drop();
    }
  });

  // Cut by the server terminating the backend at these places, then rolled back (schema only). Each place is a
  // script phase and a position in it (its first statement, or the middle one / the middle batch), counted on the
  // events of an uninterrupted run: never a line number or a statement's text, which change with the script.
  const cuts: { at: string; phase: string; position: 'first' | 'middle' }[] = [
    { at: 'right after the backups (the first statement adding a column)', phase: 'columns', position: 'first' },
    { at: 'the middle of the reports backfill', phase: 'backfill', position: 'middle' },
    { at: 'the middle of the constraints phase', phase: 'constraints', position: 'middle' },
    { at: 'the middle of the indexes phase', phase: 'indexes', position: 'middle' },
    { at: 'the middle of the ledger phase', phase: 'ledger', position: 'middle' },
    { at: 'the middle of the RLS phase (some tables done, the others not)', phase: 'rls', position: 'middle' },
  ];
  /** The nth event (1-based) of the place, counted in an uninterrupted run, and the predicate that counts it live. */
  async function cutAt(cut: (typeof cuts)[number]): Promise<(e: EngineEvent, seen: { n: number }) => boolean> {
    const { events } = await referenceRun(template, SPEC);
    const isPlace =
      cut.phase === 'backfill'
        ? (e: EngineEvent) =>
            e.type === 'progress' && e.progress.action === 'backfill' && e.progress.table === 'public.reports'
        : (e: EngineEvent) => e.type === 'statement-started' && e.step === 'migrate' && e.phase === cut.phase;
    const total = events.filter(isPlace).length;
    assert.ok(
      total >= (cut.position === 'middle' ? 2 : 1),
      `the ${cut.phase} phase has ${total} event(s) in an uninterrupted run`,
    );
    const nth = cut.position === 'first' ? 1 : Math.ceil(total / 2);
    return (e, seen) => isPlace(e) && ++seen.n === nth;
  }
  for (const cut of cuts) {
    it(`after a migration cut at ${cut.at}: exactly the legacy database`, async () => {
      const hit = await cutAt(cut);
      const killer = new pg.Client(db.url);
      killer.on('error', () => undefined);
      await killer.connect();
      try {
        let pid = 0;
        let fired = false;
        const seen = { n: 0 };
        const events = {
          push: (e: EngineEvent) => {
            if (!fired && pid && hit(e, seen)) {
              fired = true;
              void killer.query('SELECT pg_terminate_backend($1)', [pid]).catch(() => undefined);
            }
            return 0;
          },
        } as unknown as EngineEvent[];
        const ws = makeWorkspace(SPEC);
        const m = await openMigration(db.url, ws, events);
        pid = m.session.pid;
        const result = await m.runAll().catch((e: Error) => ({ ok: false, error: e }));
        await m.close();
        assert.ok(fired, 'the cut was never reached');
        assert.equal(result.ok, false);
        await waitForBackendGone(killer, pid);
        const { step } = await withMigration(db.url, ws, (mm) => mm.rollback({ restoreData: false }));
        assert.equal(step.status, 'done', step.summary);
        await assertLegacyAgain(`cut at ${cut.at}, rollback`);
      } finally {
        await killer.end();
      }
    });
  }

  it('rollback --restore-data after a migration cut in the middle of a backfill: the tables equal the backups, and the legacy database', async () => {
    const original = await legacyRows(db.client);
    const ws = new Workspace(legacySpec(SPEC));
    try {
      const killer = new pg.Client(db.url);
      await killer.connect();
      let pid = 0;
      let fired = false;
      const events = {
        push: (e: EngineEvent) => {
          if (
            !fired &&
            pid &&
            e.type === 'progress' &&
            e.progress.action === 'backfill' &&
            e.progress.table === 'public.credentials' &&
            e.progress.done > 2
          ) {
            fired = true;
            void killer.query('SELECT pg_terminate_backend($1)', [pid]).catch(() => undefined);
          }
          return 0;
        },
      } as unknown as EngineEvent[];
      const m = await openMigration(db.url, { folder: ws.dir, specFile: ws.specPath }, events);
      pid = m.session.pid;
      await m.runAll().catch(() => undefined);
      await m.close();
      await waitForBackendGone(killer, pid);
      await killer.end();
      assert.ok(fired);
      const backups = await backupStates(db.client, original);
      assert.ok(backups.length === 3 && backups.every(backupIntact), 'the backups were taken and hold the legacy rows');
      await ws.tickAll({ DATABASE_URL: db.url });
      const r = await ws.run(['rollback', '--restore-data', '--yes', '--json'], { DATABASE_URL: db.url });
      assert.equal(r.code, 0, r.stdout + r.stderr);
      const restored = JSON.parse(r.stdout).result.restored as { table: string; rows: number }[];
      assert.deepEqual(
        restored.map((x) => `${x.table} ${x.rows}`),
        backups
          .map((b) => `public.${b.table} ${b.rowCount}`)
          .sort(
            (a, b) =>
              ['public.credentials', 'public.reports', 'public.dashboard_layouts'].indexOf(a.split(' ')[0]!) -
              ['public.credentials', 'public.reports', 'public.dashboard_layouts'].indexOf(b.split(' ')[0]!),
          ),
      );
      const lost = await rowsLost(db.client, original);
      assert.deepEqual(
        Object.values(lost).reduce((a, b) => a + b, 0),
        0,
        JSON.stringify(lost),
      );
      await assertLegacyAgain('cut mid-backfill, rollback --restore-data (CLI)');
    } finally {
      ws.remove();
    }
  });

  const refusals: { title: string; spoil: (c: pg.Client) => Promise<unknown>; message: RegExp }[] = [
    {
      title: 'a backup table that was dropped',
      spoil: (c) => c.query('DROP TABLE tenant_migration.backup_reports'),
      message: /backup tenant_migration\.backup_reports is missing/,
    },
    {
      title: 'a backup that lost a row',
      spoil: (c) =>
        c.query(
          'DELETE FROM tenant_migration.backup_dashboard_layouts WHERE id IN (SELECT id FROM tenant_migration.backup_dashboard_layouts LIMIT 1)',
        ),
      message: /backup_dashboard_layouts no longer matches its recorded digest/,
    },
    {
      title: 'a backup that gained a row',
      spoil: (c) =>
        c.query(
          `INSERT INTO tenant_migration.backup_credentials SELECT * FROM tenant_migration.backup_credentials WHERE id = 1`,
        ),
      message: /backup_credentials no longer matches its recorded digest/,
    },
  ];
  for (const r of refusals) {
    it(`rollback --restore-data refuses (exit 3) and changes nothing when there is ${r.title}`, async () => {
      const ws = new Workspace(legacySpec(SPEC));
      try {
        await ws.tickAll({ DATABASE_URL: db.url });
        assert.equal((await ws.run(['run', '--yes'], { DATABASE_URL: db.url })).code, 0);
        await r.spoil(db.client);
        const before = await databaseDigest(db.client);
        const out = await ws.run(['rollback', '--restore-data', '--accept-data-loss', '--yes'], {
          DATABASE_URL: db.url,
        });
        assert.equal(out.code, 3, out.stderr);
        assert.equal(out.errorLines.length, 1, out.stderr);
        assert.match(out.errorLines[0]!, r.message);
        assert.match(out.errorLines[0]!, / — .*(without --restore-data|dump)/);
        const after = await databaseDigest(db.client);
        // The run and audit records of the refused rollback are the only change.
        const strip = (d: Record<string, unknown>) => ({
          ...d,
          contents: Object.fromEntries(
            Object.entries(d.contents as Record<string, string>).filter(
              ([t]) => !/^tenant_migration\.(runs|steps|audit)$/.test(t),
            ),
          ),
        });
        assertSameDigest(strip(before), strip(after), 'a refused rollback changed nothing');
        fig.record({ kind: 'rollback', case: `--restore-data refused: ${r.title}`, exact: true });
      } finally {
        ws.remove();
      }
    });
  }
});
