// The concurrent application: a separate process (so the runner's event loop cannot distort its timings) that
// writes `rate` times a second, open loop: op k is due at start + k / rate whatever happened to op k - 1, and its
// latency is measured from when it was due (a stalled op delays the ones queued behind it, as in a real pool).
// Each op, in one transaction: an UPDATE of a random credential and an INSERT of a report WITHOUT org_id.
import pg from 'pg';
import type { WriterCommand, WriterOp, WriterReport } from './protocol';
import { WRITER_TITLE } from './writer-title';

const POOL_SIZE = 20;

/** Sends a message and waits until it has left: disconnecting right after a large send would lose it. */
function send(message: unknown): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) return resolve();
    process.send(message, undefined, {}, () => resolve());
  });
}

async function main(config: Extract<WriterCommand, { type: 'start' }>): Promise<void> {
  const pool = new pg.Pool({ connectionString: config.url, max: POOL_SIZE, application_name: 'bench-writer' });
  pool.on('error', () => {
    /* a dead idle client: the next op reports the error */
  });
  // Open the connections before the clock starts: connecting is not the application's steady state.
  const warm = await Promise.all(Array.from({ length: POOL_SIZE }, () => pool.connect()));
  warm.forEach((c) => c.release());

  const ops: WriterOp[] = [];
  const errors = new Map<string, number>();
  let inFlight = 0;
  let stopping = false;
  const intervalMs = 1000 / config.rate;
  const t0 = performance.now();
  const epoch0 = Date.now();

  const op = async (k: number, due: number) => {
    inFlight++;
    const credentialId = 1 + Math.floor(Math.random() * config.credentials);
    let ok = true;
    let client: pg.PoolClient | undefined;
    let queuedMs = 0;
    try {
      client = await pool.connect();
      queuedMs = performance.now() - t0 - due;
      await client.query('BEGIN');
      await client.query('UPDATE credentials SET updated_at = now() WHERE id = $1', [credentialId]);
      await client.query(
        `INSERT INTO reports (credential_id, title, body) VALUES ($1, '${WRITER_TITLE}', '{"live": true}')`,
        [credentialId],
      );
      await client.query('COMMIT');
    } catch (error) {
      ok = false;
      const message = (error as Error).message;
      errors.set(message, (errors.get(message) ?? 0) + 1);
      await client?.query('ROLLBACK').catch(() => undefined);
    } finally {
      client?.release();
      inFlight--;
    }
    ops.push({ k, dueEpochMs: epoch0 + due, latencyMs: performance.now() - t0 - due, queuedMs, ok });
  };

  let k = 0;
  const tick = () => {
    if (stopping) return;
    const now = performance.now() - t0;
    // Issue every op that is due (catches up after a timer delay; never skips one).
    while (k * intervalMs <= now) {
      void op(k, k * intervalMs);
      k++;
    }
    setTimeout(tick, Math.max(0, k * intervalMs - (performance.now() - t0)));
  };
  tick();
  await send({ type: 'started' });

  await new Promise<void>((resolve) =>
    process.on('message', (m: WriterCommand) => {
      if (m.type === 'stop') resolve();
    }),
  );
  stopping = true;
  while (inFlight > 0) await new Promise((r) => setTimeout(r, 10));
  await pool.end();
  const report: WriterReport = {
    type: 'report',
    issued: k,
    ops,
    errors: [...errors].map(([message, count]) => ({ message, count })),
  };
  await send(report);
}

process.once('message', (m: WriterCommand) => {
  if (m.type !== 'start') return;
  main(m)
    .catch(async (error) => {
      process.exitCode = 1;
      await send({ type: 'crashed', message: String((error as Error).stack ?? error) });
    })
    .finally(() => process.disconnect?.());
});
