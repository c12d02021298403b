// The lock monitor: a separate process with its own connection that looks at pg_locks every intervalMs and keeps,
// per application_name, the longest wait for a lock it saw (pg_locks.waitstart, PostgreSQL 14+), what was waited
// for and who blocked it. Row locks show up too: a writer waiting for a backfill batch waits on a transactionid.
import pg from 'pg';
import type { LockWait, MonitorCommand, MonitorReport } from './protocol';

const SAMPLE = `
SELECT a.application_name AS app,
       greatest(0, extract(epoch FROM clock_timestamp() - coalesce(l.waitstart, a.query_start)) * 1000) AS wait_ms,
       l.locktype || ' ' || l.mode || coalesce(' on ' || l.relation::regclass::text, '') AS lock,
       left(regexp_replace(a.query, '\\s+', ' ', 'g'), 160) AS query,
       coalesce((SELECT string_agg(b.application_name || ': ' || left(regexp_replace(b.query, '\\s+', ' ', 'g'), 120), ' | ')
                   FROM pg_stat_activity b WHERE b.pid = ANY (pg_blocking_pids(l.pid))), '') AS blockers
  FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
 WHERE NOT l.granted AND a.datname = current_database()`;

async function main(config: Extract<MonitorCommand, { type: 'start' }>): Promise<void> {
  const client = new pg.Client({ connectionString: config.url, application_name: 'bench-monitor' });
  client.on('error', () => {
    /* the server stopping: the report says what was seen until then */
  });
  await client.connect();
  const longest = new Map<string, LockWait>();
  let samples = 0;
  let errors = 0;
  let lastError = '';
  let maxSampleMs = 0;
  let stopping = false;
  process.on('message', (m: MonitorCommand) => {
    if (m.type === 'stop') stopping = true;
  });
  process.send?.({ type: 'started' });
  while (!stopping) {
    const started = performance.now();
    try {
      const { rows } = await client.query<{
        app: string;
        wait_ms: number;
        lock: string;
        query: string;
        blockers: string;
      }>(SAMPLE);
      for (const r of rows) {
        const app = r.app || '(no application_name)';
        const seen = longest.get(app);
        if (!seen || r.wait_ms > seen.waitMs)
          longest.set(app, {
            app,
            waitMs: Math.round(r.wait_ms),
            atEpochMs: Date.now(),
            lock: r.lock,
            query: r.query,
            blockers: r.blockers,
          });
      }
    } catch (error) {
      // A relation dropped between pg_locks and the cast, say: count it and go on (a closed connection ends the loop).
      errors++;
      lastError = (error as Error).message;
      if (/terminat|ECONNRESET|Connection terminated|not queryable/i.test(lastError)) break;
    }
    samples++;
    const took = performance.now() - started;
    maxSampleMs = Math.max(maxSampleMs, took);
    await new Promise((r) => setTimeout(r, Math.max(0, config.intervalMs - took)));
  }
  await client.end().catch(() => undefined);
  const report: MonitorReport = {
    type: 'report',
    samples,
    errors,
    lastError,
    maxSampleMs: Math.round(maxSampleMs),
    longest: [...longest.values()],
  };
  await new Promise<void>((resolve) =>
    process.send ? process.send(report, undefined, {}, () => resolve()) : resolve(),
  );
}

process.once('message', (m: MonitorCommand) => {
  if (m.type !== 'start') return;
  main(m)
    .catch((error) => {
      process.send?.({ type: 'crashed', message: String((error as Error).stack ?? error) });
      process.exitCode = 1;
    })
    .finally(() => process.disconnect?.());
});
