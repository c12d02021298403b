// The lock-timeout retries: waits that double, jittered by up to a quarter, so that each is still longer than the last.
import assert from 'node:assert/strict';
import { LOCK_RETRY, retryWaitMs } from '../../src/engine/execute/runner';
import { resolveSpec } from '../../src/engine/migration-spec/load';
import { legacySpec } from '../fixtures/legacy-data';

describe('lock-timeout retries', () => {
  it('double from 100 ms, shortened by at most a quarter at random, each longer than the last whatever the jitter', () => {
    const slowest = Array.from({ length: LOCK_RETRY.attempts - 1 }, (_, i) =>
      retryWaitMs(LOCK_RETRY.firstWaitMs, i + 1, 0),
    );
    const quickest = Array.from({ length: LOCK_RETRY.attempts - 1 }, (_, i) =>
      retryWaitMs(LOCK_RETRY.firstWaitMs, i + 1, 1),
    );
    assert.deepEqual(slowest, [100, 200, 400, 800, 1600, 3200, 6400]);
    assert.deepEqual(quickest, [75, 150, 300, 600, 1200, 2400, 4800]);
    for (let i = 1; i < slowest.length; i++)
      assert.ok(quickest[i]! > slowest[i - 1]!, `wait ${i + 1} can be shorter than wait ${i}`);
    const draws = new Set(Array.from({ length: 50 }, () => retryWaitMs(1000, 1)));
    assert.ok(draws.size > 10, 'the waits are not jittered');
  });

  it('a spec without lockTimeoutMs waits at most 100 ms for a lock that blocks the application', () => {
    const spec = legacySpec({});
    delete (spec as { lockTimeoutMs?: number }).lockTimeoutMs;
    assert.equal(resolveSpec(spec, '/tmp/tenant-migration.json').spec.lockTimeoutMs, 100);
  });
});
