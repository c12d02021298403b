// Validation's scans run side by side on the session and siblings (issue 17): every lane must read the session's one
// snapshot (a row committed meanwhile is seen by none), a failed read must fail only its own check, and with one lane
// the session does it all.
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { Session } from '../../src/engine/db/session';
import { SnapshotLanes } from '../../src/engine/db/snapshot-lanes';

describe('snapshot lanes: read-only work side by side in one snapshot', function () {
  this.timeout(60_000);
  let db: TestDatabase;
  let session: Session;
  beforeEach(async () => {
    db = await createTestDatabase();
    await db.client.query(
      'CREATE TABLE readings (id int PRIMARY KEY); INSERT INTO readings SELECT generate_series(1, 10)',
    );
    session = await Session.open(db.url);
  });
  afterEach(async () => {
    await session.close();
    await db.drop();
  });

  const seen = (lanes: SnapshotLanes) =>
    lanes.run(async (s) => {
      const { rows } = await s.query<{ n: number; pid: number; began: number; ended: number }>(
        `SELECT count(*)::int AS n, pg_backend_pid() AS pid, extract(epoch FROM statement_timestamp())::float8 AS began,
                extract(epoch FROM max(clock_timestamp()))::float8 AS ended FROM readings, pg_sleep(0.3)`,
      );
      return rows[0]!;
    });

  it('three lanes read on three sessions, all in the snapshot of the session, not what was committed since', async () => {
    const answers = await session.reading(async () => {
      const lanes = await SnapshotLanes.open(session, 3);
      await session.query('SELECT count(*) FROM readings'); // the snapshot is taken
      await db.client.query('INSERT INTO readings VALUES (11)'); // committed after it, before the siblings start
      const queued = [seen(lanes), seen(lanes), seen(lanes)];
      await lanes.drain();
      return { rows: await Promise.all(queued) };
    });
    assert.deepEqual(
      answers.rows.map((r) => r.n),
      [10, 10, 10],
    );
    assert.equal(new Set(answers.rows.map((r) => r.pid)).size, 3, 'the three reads ran on three sessions');
    assert.ok(
      answers.rows.some((r) => r.pid === session.pid),
      'the session itself is one of the lanes',
    );
    const [first, ...others] = answers.rows;
    assert.ok(
      others.some((r) => r.began < first!.ended && first!.began < r.ended),
      'the reads ran at the same time, not one after the other',
    );
    const after = await session.query<{ n: number }>('SELECT count(*)::int AS n FROM readings');
    assert.equal(after.rows[0]!.n, 11);
  });

  it('a read that fails rejects only its own answer; the others are answered', async () => {
    const outcome = await session.reading(async () => {
      const lanes = await SnapshotLanes.open(session, 2);
      const good = [seen(lanes), seen(lanes), seen(lanes)];
      const failing = lanes.run((s) => s.query('SELECT count(*) FROM no_such_table'));
      failing.catch(() => undefined);
      await lanes.drain();
      return {
        good: await Promise.allSettled(good),
        failing: await failing.then(
          () => 'ok',
          (e: Error) => e.message,
        ),
      };
    });
    assert.match(outcome.failing, /no_such_table/);
    assert.deepEqual(
      outcome.good.map((g) => (g.status === 'fulfilled' ? g.value.n : String(g.reason))),
      [10, 10, 10],
    );
  });

  it('one lane: the session reads alone, in its own transaction', async () => {
    const rows = await session.reading(async () => {
      const lanes = await SnapshotLanes.open(session, 1);
      const queued = [seen(lanes), seen(lanes)];
      await lanes.drain();
      return Promise.all(queued);
    });
    assert.deepEqual(
      rows.map((r) => r.pid),
      [session.pid, session.pid],
    );
  });
});
