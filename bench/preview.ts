// Issue 5 item 3: the preview (Migration.plan(): the plan and the mapping gaps) on the benchmark dataset.
import path from 'node:path';
import fs from 'node:fs';
import { Migration } from '../src/engine/migration';
import { resolveSpec } from '../src/engine/migration-spec/load';
import pg from 'pg';
import { specFor } from './engine';

export interface PreviewTiming {
  readonly totalMs: number;
  readonly connectMs: number;
  readonly modelMs: number;
  readonly gapsMs: number;
  /** Generating, parsing and lock-classifying the script (gaps already computed). */
  readonly restMs: number;
  readonly statements: number;
  /** Set when the preview did not finish within the timeout: what it was doing when it was cancelled. */
  readonly timedOut?: string;
}

export async function timePreview(url: string, folder: string, timeoutMs = 120_000): Promise<PreviewTiming> {
  const specFile = specFor(folder, {});
  const spec = resolveSpec(JSON.parse(fs.readFileSync(specFile, 'utf8')), specFile);
  const marks: number[] = [performance.now()];
  let cancelled: Promise<string> | undefined;
  const guard = setTimeout(() => {
    cancelled = cancel(url).catch((e) => `(could not cancel: ${(e as Error).message})`);
  }, timeoutMs);
  const m = await Migration.connect({ database: url, spec, workFolder: path.join(folder, '.tenant-migration') });
  let statements = 0;
  try {
    marks.push(performance.now());
    await m.model();
    marks.push(performance.now());
    await m.gaps({ quick: true }); // what the preview asks for; plan() overlaps it with parsing, so this sum is an upper bound
    marks.push(performance.now());
    statements = (await m.plan()).statements.length;
    marks.push(performance.now());
  } catch (error) {
    if (!cancelled) throw error;
  } finally {
    clearTimeout(guard);
    await m.close();
  }
  const running = cancelled ? await cancelled : undefined;
  const at = (i: number) => marks[i] ?? performance.now();
  return {
    totalMs: at(4) - at(0),
    connectMs: at(1) - at(0),
    modelMs: at(2) - at(1),
    gapsMs: at(3) - at(2),
    restMs: at(4) - at(3),
    statements,
    timedOut: running ? `did not finish in ${timeoutMs / 1000} s; cancelled during: ${running}` : undefined,
  };
}

async function cancel(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url, application_name: 'bench-runner' });
  client.on('error', () => {
    /* best effort */
  });
  await client.connect();
  try {
    const { rows } =
      await client.query(`SELECT left(regexp_replace(query, '\\s+', ' ', 'g'), 300) AS query, pg_cancel_backend(pid) FROM pg_stat_activity
      WHERE datname = current_database() AND application_name LIKE 'tenant-migration%' AND state = 'active'`);
    return rows[0]?.query ?? '(nothing running)';
  } finally {
    await client.end();
  }
}
