// The order the runner may start the script's units in (issue 17): lanes side by side, what is outside a lane alone,
// and the snapshot horizon respected between sessions.
import assert from 'node:assert/strict';
import { LaneSchedule } from '../../src/engine/execute/lane-schedule';
import type { HorizonUse } from '../../src/engine/script/classify';

const free: HorizonUse = { holds: false, needs: 'none' };
const holds: HorizonUse = { holds: true, needs: 'none' };
const vacuum: HorizonUse = { holds: false, needs: 'at-start' };
const concurrently: HorizonUse = { holds: true, needs: 'throughout' };
const unit = (lane: number | undefined, horizon: HorizonUse = holds, after: number[] = []) => ({
  lane: lane === undefined ? undefined : { id: lane, after },
  horizon,
});

describe('lane schedule', () => {
  it('runs two lanes side by side, a lane that comes after another only once its statements above are done', () => {
    // 0: alone; 1-2: lane 0; 3-4: lane 1 after 0; 5: lane 2; 6: alone.
    const s = new LaneSchedule(
      [unit(undefined), unit(0), unit(0), unit(1, holds, [0]), unit(1), unit(2), unit(undefined)],
      2,
    );
    assert.equal(s.takeBlock(1), undefined, 'a unit outside any lane runs on the first session only');
    assert.deepEqual(s.takeBlock(0), [0]);
    assert.equal(s.takeBlock(1), undefined, 'nothing starts beside a unit outside any lane');
    s.start(0, 0);
    s.finish(0, 0);
    assert.deepEqual(s.takeBlock(0), [1, 2]);
    assert.deepEqual(s.takeBlock(1), [5], 'lane 2 passes lane 1, which waits for lane 0');
    for (const i of [1, 2]) {
      assert.ok(s.mayStart(i, 0));
      s.start(i, 0);
      s.finish(i, 0);
    }
    assert.deepEqual(s.takeBlock(0), [3, 4]);
    assert.equal(s.takeBlock(0), undefined, 'the last unit waits for lane 2 (still running)');
    s.start(5, 1);
    s.finish(5, 1);
    for (const i of [3, 4]) {
      s.start(i, 0);
      s.finish(i, 0);
    }
    assert.deepEqual(s.takeBlock(1), undefined);
    assert.deepEqual(s.takeBlock(0), [6]);
    assert.ok(s.finished);
  });

  it('with one session keeps the script order', () => {
    const s = new LaneSchedule([unit(0), unit(1, holds, [0]), unit(2)], 1);
    assert.deepEqual(s.takeBlock(0), [0]);
    assert.equal(s.takeBlock(0), undefined, 'lane 1 waits for lane 0, and lane 2 does not pass it');
    s.start(0, 0);
    s.finish(0, 0);
    assert.deepEqual(s.takeBlock(0), [1]);
  });

  it('starts no VACUUM beside a held snapshot, and no snapshot beside a CONCURRENTLY build', () => {
    const s = new LaneSchedule([unit(0, holds), unit(1, vacuum), unit(1, concurrently), unit(0, holds)], 2);
    s.takeBlock(0);
    s.takeBlock(1);
    s.start(0, 0);
    assert.equal(s.mayStart(1, 1), false, 'the VACUUM would free nothing the running scan can still see');
    s.finish(0, 0);
    assert.equal(s.mayStart(3, 0), false, 'a later snapshot does not pass the waiting VACUUM');
    assert.ok(s.mayStart(1, 1));
    s.start(1, 1);
    assert.ok(s.mayStart(3, 0), 'a VACUUM only needs the horizon when it starts');
    s.finish(1, 1);
    assert.ok(s.mayStart(2, 1));
    s.start(2, 1);
    assert.equal(s.mayStart(3, 0), false, 'the CONCURRENTLY build would wait for it');
    s.finish(2, 1);
    assert.ok(s.mayStart(3, 0));
  });

  it('keeps the horizon for a VACUUM that waits for newer transactions before it starts', () => {
    const s = new LaneSchedule([unit(0, vacuum), unit(1, holds)], 2);
    s.takeBlock(0);
    s.takeBlock(1);
    assert.ok(s.mayStart(0, 0));
    s.keepHorizonFor(0, 0);
    assert.equal(s.mayStart(1, 1), false, 'a later scan would keep what the VACUUM is about to free');
    s.start(0, 0);
    assert.ok(s.mayStart(1, 1), 'once the VACUUM has started, its horizon is fixed');
  });

  it('lets statements that hold no snapshot run beside anything', () => {
    const s = new LaneSchedule([unit(0, concurrently), unit(1, free), unit(1, vacuum)], 2);
    s.takeBlock(0);
    s.takeBlock(1);
    s.start(0, 0);
    assert.ok(s.mayStart(1, 1), 'a DO block of committed batches runs beside a CONCURRENTLY build');
    s.start(1, 1);
    s.finish(1, 1);
    assert.equal(s.mayStart(2, 1), false, "the VACUUM waits for the build's snapshot");
    s.finish(0, 0);
    assert.ok(s.mayStart(2, 1));
  });

  it('two CONCURRENTLY builds waiting for each other: the earlier starts', () => {
    const s = new LaneSchedule([unit(0, holds), unit(0, concurrently), unit(1, concurrently), unit(2, holds)], 3);
    s.takeBlock(0);
    s.takeBlock(1);
    s.takeBlock(2);
    s.start(3, 2);
    assert.equal(s.mayStart(2, 1), false);
    s.start(0, 0);
    s.finish(0, 0);
    assert.equal(s.mayStart(1, 0), false);
    s.finish(3, 2);
    assert.ok(s.mayStart(1, 0), 'the earlier build starts once nothing holds a snapshot');
    s.start(1, 0);
    assert.equal(s.mayStart(2, 1), false, 'the later one waits for it');
  });
});
