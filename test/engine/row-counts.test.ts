// Every row count migrate shows is true: the rows the backfill gave their org in this run, per table, never the tool's
// own state rows (snapshot, assignments, known orgs) nor rows counted twice; progress never shows an estimate as a total.
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { makeWorkspace, openMigration, withMigration, type Workspace } from '../support/migration-helpers';
import { MigrationError } from '../../src/engine/errors';
import type { EngineEvent, ProgressInfo } from '../../src/engine/events';
import { progressRows, formatCount } from '../../src/shared/format';

const TABLES = ['credentials', 'reports', 'dashboard_layouts'];

describe('row counts of migrate', function () {
  this.timeout(180_000);
  let db: TestDatabase;
  let ws: Workspace;
  beforeEach(async () => {
    db = await createTestDatabase();
    ws = makeWorkspace({ batchSize: 100 });
  });
  afterEach(async () => {
    await db.drop();
  });

  const rowsOf = async (table: string, where = 'true') =>
    (await db.client.query(`SELECT count(*)::int AS n FROM ${table} WHERE ${where}`)).rows[0].n as number;
  const lastProgress = (events: EngineEvent[]) => {
    const last = new Map<string, ProgressInfo>();
    for (const e of events)
      if (e.type === 'progress' && e.progress.action === 'backfill') last.set(e.progress.table, e.progress);
    return last;
  };

  it('backup then migrate: the rows given their org equal the rows backed up, per table; a re-run gives none', async () => {
    const counts = Object.fromEntries(await Promise.all(TABLES.map(async (t) => [t, await rowsOf(t)] as const)));
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    await withMigration(db.url, ws, (m) => m.backup());
    const backedUp = (
      await db.client.query(`SELECT sum(row_count)::int AS n FROM tenant_migration.backups WHERE status = 'current'`)
    ).rows[0].n;
    assert.equal(backedUp, total);
    const events: EngineEvent[] = [];
    const step = await withMigration(db.url, ws, (m) => m.migrate(), events);
    assert.equal(step.status, 'done', step.summary);
    assert.match(step.summary ?? '', new RegExp(`; ${formatCount(total)} rows given their org by the backfill \\(`));
    for (const t of TABLES) assert.match(step.summary ?? '', new RegExp(`public\\.${t} ${formatCount(counts[t]!)}\\b`));
    assert.equal(step.rows, total);
    for (const [table, p] of lastProgress(events)) {
      assert.equal(p.rowsDone, counts[table.replace(/^public\./, '')], table);
      assert.equal(
        progressRows(p),
        `${formatCount(p.rowsDone)} rows given their org`,
        `${table}: a finished table shows an estimate`,
      );
    }
    const again = await withMigration(db.url, ws, (m) => m.migrate());
    assert.match(again.summary ?? '', /; 0 rows given their org by the backfill$/);
  });

  it('an org column already partly filled: only its empty rows are counted, and the progress never reads "598/600"', async () => {
    await db.client.query(`ALTER TABLE reports ADD COLUMN org_id uuid;
      UPDATE reports r SET org_id = (SELECT m.org_id FROM legacy_credential_org_map m JOIN orgs o ON o.id = m.org_id WHERE m.credential_id = r.credential_id LIMIT 1) WHERE r.id % 3 = 0;
      ANALYZE reports;`);
    const empty = await rowsOf('reports', 'org_id IS NULL');
    const all = await rowsOf('reports');
    assert.ok(empty > 0 && empty < all);
    const events: EngineEvent[] = [];
    const step = await withMigration(
      db.url,
      ws,
      (m) => m.runAll().then((r) => r.steps.find((s) => s.step === 'migrate')!),
      events,
    );
    assert.equal(step.status, 'done', step.summary);
    assert.match(step.summary ?? '', new RegExp(`public\\.reports ${formatCount(empty)}\\b`));
    const reports = lastProgress(events).get('public.reports')!;
    assert.equal(reports.rowsDone, empty);
    assert.equal(progressRows(reports), `${formatCount(empty)} rows given their org`);
    const midway = events.filter(
      (e): e is Extract<EngineEvent, { type: 'progress' }> =>
        e.type === 'progress' &&
        e.progress.action === 'backfill' &&
        e.progress.table === 'public.reports' &&
        e.progress.done < e.progress.total,
    );
    for (const e of midway) assert.match(progressRows(e.progress), /^[\d,]+ of ~[\d,]+ rows given their org$/);
  });

  it('a run resumed after a cancel counts only the rows it gave their org itself', async () => {
    await db.drop();
    db = await createTestDatabase({ seed: { orgs: 5, users: 60, credentials: 2000, reports: 20_000, layouts: 80 } });
    const controller = new AbortController();
    const cancelling = {
      push: (e: EngineEvent) => {
        if (e.type === 'progress' && e.progress.action === 'backfill' && e.progress.table === 'public.reports')
          controller.abort();
        return 0;
      },
    } as unknown as EngineEvent[];
    const m = await openMigration(db.url, ws, cancelling, controller.signal);
    const error = await m.migrate().then(
      () => undefined,
      (e: unknown) => e,
    );
    await m.close();
    assert.ok(error instanceof MigrationError, String(error));
    const left = await rowsOf('reports', 'org_id IS NULL');
    assert.ok(left > 0 && left < 20_000, `${left} rows left`);
    // dashboard_layouts runs in a lane beside reports: the cancel may have come before, during or after its backfill.
    const layouts = await rowsOf('dashboard_layouts', 'org_id IS NULL');
    assert.equal(await rowsOf('credentials', 'org_id IS NULL'), 0);
    const step = await withMigration(db.url, ws, (mm) => mm.migrate());
    assert.equal(step.status, 'done', step.summary);
    const perTable = [`public\\.reports ${formatCount(left)}`];
    if (layouts > 0) perTable.push(`public\\.dashboard_layouts ${formatCount(layouts)}`);
    assert.match(
      step.summary ?? '',
      new RegExp(`; ${formatCount(left + layouts)} rows given their org by the backfill \\(${perTable.join(', ')}\\)$`),
    );
  });
});
