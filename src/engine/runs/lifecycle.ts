// A run's lifecycle: the session advisory lock, the refusals before anything is written, the run record in
// tenant_migration and the JSONL log, and the end of it all whatever happened.
import path from 'node:path';
import type { Session } from '../db/session';
import { usageError } from '../errors';
import type { Logger } from '../events';
import { JsonlLog } from '../log';
import type { MigrationModel } from '../model';
import { assertWritableSession } from '../preflight';
import { loadParser, splitScript } from '../script/parse';
import {
  acquireRunLock,
  ensureStateSchema,
  finishRun,
  operatorName,
  releaseRunLock,
  startRun,
  type RunRecord,
} from '../state';
import { sha256, TOOL_VERSION } from '../version';
import { logFailure } from '../log-failure';

export interface LifecycleHost {
  readonly session: Session;
  readonly workFolder: string;
  readonly scriptPath: string;
  readonly signal?: AbortSignal;
  readonly logger: Logger;
  model(): Promise<MigrationModel>;
  scriptText(): Promise<{ text: string; exists: boolean }>;
  assertCanWrite(): Promise<void>;
}

function isFailedStep(value: unknown): boolean {
  return (
    typeof value === 'object' &&
    value !== null &&
    'step' in value &&
    'checks' in value &&
    (value as { status?: string }).status === 'failed'
  );
}

export class RunLifecycle {
  private current?: { readonly record: RunRecord; readonly log: JsonlLog };

  constructor(private readonly host: LifecycleHost) {}

  get run(): RunRecord | undefined {
    return this.current?.record;
  }

  get log(): JsonlLog | undefined {
    return this.current?.log;
  }

  /**
   * Runs `body` as a recorded run holding the lock (or inside the run already held). A bad spec, an unusable
   * session and the refusals (another run, a script that does not parse, a conflicting mapping, a missing default
   * org) come before anything is written, even the run record.
   */
  async hold<T>(command: string, options: { runsScript: boolean }, body: () => Promise<T>): Promise<T> {
    if (this.current) return body();
    const { session } = this.host;
    // Another run is refused first: its DDL may hold or queue for table locks that our own reads would wait behind.
    await acquireRunLock(session);
    try {
      await assertWritableSession(session, await this.host.model());
      if (options.runsScript) {
        await this.assertScriptParses();
        await this.host.assertCanWrite();
      }
      await this.begin(command);
    } catch (error) {
      await releaseRunLock(session).catch(
        logFailure(this.host.logger, 'Could not release the run lock after a refusal'),
      );
      throw error;
    }
    let ok = false;
    try {
      const result = await body();
      // A step that ran to its end with failed checks is a failed run: the run's record agrees with the step's.
      ok = !isFailedStep(result);
      return result;
    } finally {
      await this.end(ok);
    }
  }

  private async begin(command: string): Promise<void> {
    const { session } = this.host;
    await ensureStateSchema(session);
    const { text } = await this.host.scriptText();
    const record = await startRun(session, command, TOOL_VERSION, sha256(text));
    const log = new JsonlLog(path.join(this.host.workFolder, 'runs'), command);
    this.current = { record, log };
    log.write({ type: 'run', command, runId: record.id, database: session.description, operator: operatorName() });
  }

  /** Closes the run record (a lost connection leaves it 'running'; the next run marks it interrupted) and the log. */
  async end(ok: boolean): Promise<void> {
    const current = this.current;
    if (!current) return;
    const { session, logger, signal } = this.host;
    const status = ok ? 'succeeded' : signal?.aborted ? 'cancelled' : 'failed';
    const note = (what: string) => (error: unknown) => {
      logFailure(logger, what)(error);
      current.log.write({ type: 'run-warning', message: `${what}: ${(error as Error).message}` });
    };
    await finishRun(session, current.record, status).catch(
      note(`Could not record the run as ${status} (it stays "running" until the next run marks it interrupted)`),
    );
    await releaseRunLock(session).catch(note('Could not release the run lock (it goes with the connection)'));
    current.log.close();
    this.current = undefined;
  }

  /** A script statement that does not parse would fail half-way through the run: it is found before anything is written. */
  private async assertScriptParses(): Promise<void> {
    const { text, exists } = await this.host.scriptText();
    if (!exists) return;
    const { parseSync } = await loadParser();
    for (const item of await splitScript(text)) {
      if (item.kind !== 'sql') continue;
      try {
        parseSync(item.text);
      } catch (error) {
        throw usageError(
          `${path.basename(this.host.scriptPath)} line ${item.line}: ${(error as Error).message}`,
          'Fix the script, then run again: nothing was run or changed.',
        );
      }
    }
  }
}
