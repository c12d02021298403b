// Two CLI runners at once: the second is refused (exit 3) naming the holder (its pid, operator, command, since when);
// when the holder's process is killed with SIGKILL (no chance to clean up) the server releases the session lock and a
// new run proceeds, recording the dead run as interrupted. (test/engine/resilience.test.ts does this for two engine
// runs in one process; test/cli/cli-exit-codes.test.ts for a lock held by a plain session.)
import assert from 'node:assert/strict';
import pg from 'pg';
import { figures } from './support/figures';
import { cloneDatabase, templateDatabase } from './support/databases';
import { startCli, until } from './support/cli-process';
import { buildCli, Workspace } from '../support/cli';
import { legacySpec, SMALL } from '../fixtures/legacy-data';

const fig = figures(__filename);
const LOCK_KEY = '7447313001';

describe('concurrency: two CLI runners at once', function () {
  this.timeout(120_000);
  let template: string;
  before(async () => {
    template = await templateDatabase(SMALL);
    await buildCli();
  });

  it('the second is refused naming the holder; SIGKILL of the holder releases the lock; a new run proceeds', async () => {
    const db = await cloneDatabase(template);
    const app = new pg.Client(db.url);
    app.on('error', () => undefined);
    const first = new Workspace(legacySpec({ batchSize: 100, lockTimeoutMs: 200 }));
    const second = new Workspace(legacySpec({ batchSize: 100, lockTimeoutMs: 200 }));
    try {
      await app.connect();
      // The application holds what an open UPDATE transaction holds: the first runner's ALTER TABLE waits and retries.
      await app.query('BEGIN');
      await app.query('LOCK TABLE dashboard_layouts IN ROW EXCLUSIVE MODE');
      await first.tickAll({ DATABASE_URL: db.url });
      const holder = startCli(first.dir, ['migrate', '--yes'], { DATABASE_URL: db.url });
      const holderPid = await until(
        'the first runner to hold the run lock',
        async () =>
          (
            await db.client.query(
              `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND ((classid::bigint << 32) | objid::bigint) = $1::bigint`,
              [LOCK_KEY],
            )
          ).rows[0]?.pid as number | undefined,
      );
      await until(
        "the first runner to wait for the application's lock",
        async () =>
          (
            await db.client
              .query(`SELECT 1 FROM tenant_migration.audit WHERE outcome = 'retried'`)
              .catch(() => ({ rows: [] }))
          ).rows.length > 0,
      );

      const refused = await second.run(['run', '--yes'], { DATABASE_URL: db.url });
      const status = JSON.parse((await second.run(['status', '--json'], { DATABASE_URL: db.url })).stdout);
      const namesHolder =
        refused.code === 3 &&
        refused.errorLines.length === 1 &&
        new RegExp(
          `Another migration run holds the lock on ${db.name}: .*pid ${holderPid}\\b.*running "migrate"\\) since \\d{4}-\\d\\d-\\d\\dT`,
        ).test(refused.errorLines[0]!);
      fig.record({
        kind: 'concurrency',
        case: 'CLI + CLI: the second runner is refused, naming the holder',
        ok: namesHolder,
      });
      assert.equal(refused.code, 3, refused.stderr);
      assert.equal(refused.errorLines.length, 1, refused.stderr);
      assert.match(
        refused.errorLines[0]!,
        new RegExp(
          `Another migration run holds the lock on ${db.name}: .*pid ${holderPid}\\b.*running "migrate"\\) since \\d{4}-\\d\\d-\\d\\dT`,
        ),
      );
      assert.match(refused.errorLines[0]!, / — .*pg_terminate_backend/);
      assert.equal(status.result.lockHeldBy?.pid, holderPid, 'status names the running holder');
      assert.equal(
        (await db.client.query(`SELECT count(*)::int AS n FROM tenant_migration.runs WHERE status = 'running'`)).rows[0]
          .n,
        1,
        'the refused runner recorded no run',
      );

      const killedAt = Date.now();
      holder.child.kill('SIGKILL');
      const dead = await holder.done;
      assert.equal(dead.signal, 'SIGKILL');
      await until(
        "the server to release the dead runner's lock",
        async () =>
          (
            await db.client.query(
              `SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND ((classid::bigint << 32) | objid::bigint) = $1::bigint`,
              [LOCK_KEY],
            )
          ).rows.length === 0,
        20_000,
      );
      const releasedMs = Date.now() - killedAt;
      fig.record({
        kind: 'concurrency',
        case: `SIGKILL of the holder releases the lock (in ${releasedMs} ms)`,
        ok: true,
      });
      await app.query('ROLLBACK');

      const next = await second.run(['run', '--yes'], { DATABASE_URL: db.url });
      const runs = (await db.client.query(`SELECT command, status FROM tenant_migration.runs ORDER BY id`)).rows.map(
        (r) => `${r.command}:${r.status}`,
      );
      fig.record({
        kind: 'concurrency',
        case: 'after the holder died, a new run proceeds and records the dead run as interrupted',
        ok: next.code === 0 && runs[0] === 'migrate:interrupted',
      });
      assert.equal(next.code, 0, next.stderr.slice(-1500));
      assert.deepEqual(runs, ['migrate:interrupted', 'run:succeeded']);
    } finally {
      await app.end().catch(() => undefined);
      first.remove();
      second.remove();
      await db.drop();
    }
  });
});
