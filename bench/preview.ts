// Issue 5 item 3, issue 17 target 5: the preview (Migration.plan(): the plan and the mapping gaps) on the benchmark
// dataset, its first answer and its exact one timed apart.
import path from 'node:path';
import fs from 'node:fs';
import { Migration } from '../src/engine/migration';
import { resolveSpec } from '../src/engine/migration-spec/load';
import pg from 'pg';
import { specFor } from './engine';

export interface PreviewTiming {
  /** From connecting to the first answer (estimates; the exact blocking checks still running). */
  readonly firstMs: number;
  /** From connecting to the exact answer (every blocking check answered): what a run's preview step waits for. */
  readonly totalMs: number;
  readonly connectMs: number;
  readonly modelMs: number;
  /** The exact stage alone: from the first answer to the exact one. */
  readonly gapsMs: number;
  readonly statements: number;
  /** The exact checks the first answer left pending. */
  readonly pending: number;
  /** Set when the preview did not finish within the timeout: what it was doing when it was cancelled. */
  readonly timedOut?: string;
}

/** Connect, then `plan({ onFirstAnswer })` as `tenant-migrate plan` runs it: the first answer, then the exact one. */
export async function timePreview(url: string, folder: string, timeoutMs = 120_000): Promise<PreviewTiming> {
  const specFile = specFor(folder, {});
  const spec = resolveSpec(JSON.parse(fs.readFileSync(specFile, 'utf8')), specFile);
  const started = performance.now();
  const marks: { connect?: number; model?: number; first?: number; exact?: number } = {};
  let cancelled: Promise<string> | undefined;
  const guard = setTimeout(() => {
    cancelled = cancel(url).catch((e) => `(could not cancel: ${(e as Error).message})`);
  }, timeoutMs);
  const m = await Migration.connect({ database: url, spec, workFolder: path.join(folder, '.tenant-migration') });
  marks.connect = performance.now();
  let statements = 0;
  let pending = 0;
  try {
    void m.model().then(() => (marks.model = performance.now()));
    const plan = await m.plan({
      onFirstAnswer: (p) => {
        marks.first = performance.now();
        pending = p.gaps.pending?.length ?? 0;
      },
    });
    marks.exact = performance.now();
    marks.first ??= marks.exact; // the first answer was the exact one
    statements = plan.statements.length;
  } catch (error) {
    if (!cancelled) throw error;
  } finally {
    clearTimeout(guard);
    await m.close();
  }
  const running = cancelled ? await cancelled : undefined;
  const at = (t?: number) => (t ?? performance.now()) - started;
  return {
    firstMs: at(marks.first),
    totalMs: at(marks.exact),
    connectMs: at(marks.connect),
    modelMs: at(marks.model) - at(marks.connect),
    gapsMs: at(marks.exact) - at(marks.first),
    statements,
    pending,
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
