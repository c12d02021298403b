// The runner's lanes on a real PostgreSQL (issue 17): two tables' blocks at the same time on two sessions that carry
// the script's settings; a lane that comes after another waits for it; what is outside a lane runs alone; a failure in
// one lane stops the other after its running statement; a VACUUM waits for a snapshot held on the other session.
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { Session } from '../../src/engine/db/session';
import { runScript } from '../../src/engine/execute/runner';
import type { EngineEvent } from '../../src/engine/events';
import { ensureStateSchema } from '../../src/engine/state';
import { makeWorkspace } from '../support/migration-helpers';
import { scriptFor } from './support/backfill-script';

const lane = (id: number | 'none', after?: number) =>
  `-- @tenant-migration lane=${id}${after === undefined ? '' : ` after=${after}`}`;
const mark = (what: string) =>
  `INSERT INTO marks (what, pid, at, row_security, lock_timeout) VALUES ('${what}', pg_backend_pid(), clock_timestamp(), current_setting('row_security'), current_setting('lock_timeout'));`;

describe('script lanes: tables side by side on two sessions', function () {
  this.timeout(60_000);
  let db: TestDatabase;
  let session: Session;
  beforeEach(async () => {
    db = await createTestDatabase();
    await db.client.query(
      `CREATE TABLE marks (what text, pid int, at timestamptz, row_security text, lock_timeout text);
       CREATE TABLE worked (id int PRIMARY KEY)`,
    );
    session = await Session.open(db.url);
    await ensureStateSchema(session);
  });
  afterEach(async () => {
    await session.close();
    await db.drop();
  });

  const marks = async () =>
    new Map(
      (
        await db.client.query<{ what: string; pid: number; at: number; row_security: string; lock_timeout: string }>(
          // Microseconds: a Date would round two statements of one millisecond to the same time.
          'SELECT what, pid, extract(epoch FROM at)::float8 * 1000 AS at, row_security, lock_timeout FROM marks',
        )
      ).rows.map((r) => [r.what, r]),
    );

  it('runs two lanes at once on two sessions with the script settings, the rest in order', async () => {
    const script = [
      `SET lock_timeout = '123ms';`,
      'SET row_security = off;',
      mark('first'),
      lane(0),
      mark('a:start'),
      'SELECT pg_sleep(0.6);',
      mark('a:end'),
      lane(1),
      mark('b:start'),
      'SELECT pg_sleep(0.6);',
      mark('b:end'),
      lane(2, 0),
      mark('c'),
      lane('none'),
      mark('last'),
    ].join('\n');
    const result = await runScript(script, { session, step: 'migrate', onEvent: () => undefined });
    assert.equal(result.statements, 11);
    const m = await marks();
    const at = (what: string) => m.get(what)!.at;
    assert.notEqual(m.get('a:start')!.pid, m.get('b:start')!.pid, 'the lanes ran on two sessions');
    assert.ok(at('b:start') < at('a:end') && at('a:start') < at('b:end'), 'the lanes ran at the same time');
    assert.ok(at('first') < Math.min(at('a:start'), at('b:start')), 'what is above the lanes ran first');
    assert.ok(at('c') >= at('a:end'), 'lane 2 came after lane 0');
    assert.ok(at('last') >= Math.max(at('b:end'), at('c')), 'what is outside a lane waited for every lane');
    for (const what of ['a:start', 'b:start', 'c'])
      assert.deepEqual([m.get(what)!.row_security, m.get(what)!.lock_timeout], ['off', '123ms'], what);
    assert.equal(m.get('last')!.pid, session.pid, 'the statements outside a lane ran on the step session');
  });

  it("a failure in one lane stops the other's running statement at once, and says where", async () => {
    const script = [
      lane(0),
      mark('a:1'),
      'SELECT pg_sleep(5);',
      mark('a:2'),
      lane(1),
      'INSERT INTO worked VALUES (1);',
      'INSERT INTO worked VALUES (1);',
      lane('none'),
      mark('last'),
    ].join('\n');
    const notices: string[] = [];
    const onEvent = (e: EngineEvent) => void (e.type === 'notice' && notices.push(e.message));
    const started = performance.now();
    await assert.rejects(runScript(script, { session, step: 'migrate', onEvent }), (e: Error) =>
      /line 7 failed: .*duplicate key/.test(e.message),
    );
    assert.ok(performance.now() - started < 4000, "the other lane's 5-s statement was stopped, not waited for");
    assert.ok(
      notices.some((n) => /stopping the statement the run's other session was running/.test(n)),
      notices.join('\n'),
    );
    const m = await marks();
    assert.ok(m.has('a:1'));
    assert.equal(m.has('a:2'), false, 'lane 0 went no further than the statement it was running');
    assert.equal(m.has('last'), false);
    const { rows } = await db.client.query('SELECT count(*)::int AS n FROM worked');
    assert.equal(rows[0].n, 1);
  });

  it('starts a VACUUM only when the other session holds no snapshot', async () => {
    const script = [lane(0), 'SELECT pg_sleep(0.8);', lane(1), 'SELECT 1;', 'VACUUM worked;'].join('\n');
    const times = new Map<string, number>();
    const onEvent = (e: EngineEvent) => {
      if (e.type === 'statement-started') times.set(`start:${e.index}`, performance.now());
      if (e.type === 'statement-finished') times.set(`end:${e.index}`, performance.now());
    };
    await runScript(script, { session, step: 'migrate', onEvent });
    assert.ok(times.get('start:1')! < times.get('end:0')!, 'lane 1 started beside the sleep');
    assert.ok(times.get('start:2')! >= times.get('end:0')!, 'the VACUUM waited for the snapshot of the sleep');
  });

  it("starts a VACUUM beside another lane's batches once that lane has begun a newer transaction", async () => {
    const batches = `DO $$ BEGIN FOR i IN 1..3 LOOP
      INSERT INTO marks (what, at) VALUES ('batch ' || i, clock_timestamp()); PERFORM pg_sleep(0.3); COMMIT;
    END LOOP; END $$;`;
    const inFirstBatch = `DO $$ BEGIN WHILE NOT EXISTS (SELECT 1 FROM marks WHERE what = 'batch 1') LOOP PERFORM pg_sleep(0.01); END LOOP; END $$;`;
    const script = [lane(0), batches, lane(1), inFirstBatch, 'VACUUM worked;', mark('after vacuum')].join('\n');
    await runScript(script, { session, step: 'migrate', onEvent: () => undefined });
    const m = await marks();
    assert.ok(
      m.get('after vacuum')!.at > m.get('batch 2')!.at,
      'the VACUUM started while the batch that began before it could still see the dead rows',
    );
  });

  it("a lock the other lane's batches hold, batch after batch, does not use up the statement's attempts", async () => {
    const batches = `DO $$ BEGIN FOR i IN 1..5 LOOP PERFORM 1 FROM worked LIMIT 1; PERFORM pg_sleep(0.4); COMMIT; END LOOP; END $$;`;
    const script = [
      `SET lock_timeout = '20ms';`,
      lane(0),
      batches,
      lane(1),
      'ALTER TABLE worked ADD COLUMN x int;',
    ].join('\n');
    const retries: number[] = [];
    const onEvent = (e: EngineEvent) => void (e.type === 'retry' && retries.push(e.waitMs));
    await runScript(script, { session, step: 'migrate', onEvent, retry: { attempts: 2, firstWaitMs: 20 } });
    const { rows } = await db.client.query(
      `SELECT 1 FROM pg_attribute WHERE attrelid = 'worked'::regclass AND attname = 'x'`,
    );
    assert.equal(rows.length, 1, 'the ALTER got its lock between two batches, or after them');
    assert.ok(retries.length >= 1, 'the ALTER never waited for the batches');
    assert.ok(
      Math.max(...retries) <= 320,
      `a wait beside the other lane grew past 16 first waits: ${retries.join(', ')}`,
    );
  });

  it("a lane's session follows what the script reset outside the lanes, and keeps its own name", async () => {
    const script = [
      `SET lock_timeout = '123ms';`,
      `SET application_name = 'renamed';`,
      lane(0),
      mark('a'),
      'SELECT pg_sleep(0.3);',
      lane(1),
      mark('b'),
      lane('none'),
      'RESET lock_timeout;',
      lane(2),
      mark('c'),
      'SELECT pg_sleep(0.3);',
      lane(3),
      mark('d'),
      `INSERT INTO marks (what, pid, row_security) SELECT 'name', pg_backend_pid(), current_setting('application_name');`,
    ].join('\n');
    await runScript(script, { session, step: 'migrate', onEvent: () => undefined });
    const m = await marks();
    assert.deepEqual([m.get('a')!.lock_timeout, m.get('b')!.lock_timeout], ['123ms', '123ms']);
    assert.notEqual(m.get('a')!.pid, m.get('b')!.pid);
    assert.notEqual(m.get('c')!.pid, m.get('d')!.pid);
    for (const what of ['c', 'd'])
      assert.notEqual(m.get(what)!.lock_timeout, '123ms', `the RESET reached ${what}'s session`);
    const lanePid = [m.get('c')!, m.get('d')!].find((r) => r.pid !== session.pid)!.pid;
    if (m.get('name')!.pid === lanePid)
      assert.equal(m.get('name')!.row_security, 'tenant-migration lane', "the lane session's own application_name");
  });

  it('a child table waits for its parent in the constraints step too; every laned step ends outside any lane', async () => {
    const ws = makeWorkspace({});
    const text = await scriptFor(db.url, ws, { minGroupBytes: 1024 * 1024, maxGroups: 10 });
    const constraints = text.slice(text.indexOf('step=constraints'), text.indexOf('step=indexes'));
    assert.match(constraints, /lane=1 after=0 \(public\.reports, after public\.credentials\)/);
    for (const step of ['backfill', 'constraints', 'indexes', 'ledger']) {
      const from = text.indexOf(`step=${step}`);
      const body = text.slice(from, text.indexOf('-- @tenant-migration step=', from + 1));
      const markers = body.match(/^-- @tenant-migration lane=\S+/gm) ?? [];
      assert.equal(markers.at(-1), '-- @tenant-migration lane=none', `${step} ends outside any lane`);
    }
  });

  it('runs everything on the step session in its order when asked for one session', async () => {
    const script = [lane(0), mark('a'), 'SELECT pg_sleep(0.3);', lane(1), mark('b')].join('\n');
    await runScript(script, { session, step: 'migrate', onEvent: () => undefined, sessions: 1 });
    const m = await marks();
    assert.equal(m.get('a')!.pid, session.pid);
    assert.equal(m.get('b')!.pid, session.pid);
    assert.ok(m.get('b')!.at - m.get('a')!.at >= 300);
  });
});
