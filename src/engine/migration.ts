// The engine's facade: one object per connection and spec, one method per step. The CLI and the extension are thin
// layers over this. Writing steps hold the session advisory lock and are recorded in tenant_migration.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { Session } from './db/session';
import type { ConnectionTarget } from './db/connection-options';
import { MigrationError, failed, refused, usageError } from './errors';
import { MANUAL_ITEMS, STEPS, STEP_TITLES, silentLogger, type ManualItem, type CheckResult, type ChecklistStep, type EngineEvent, type EventListener, type Logger, type StepId } from './events';
import { findGaps, mappingStub, type GapOptions, type GapReport } from './gaps';
import { JsonlLog } from './log';
import { assertDefaultOrgExists, resolveModel, type MigrationModel } from './model';
import { buildPlan, type Plan } from './plan';
import { assertWritableSession, preflight } from './preflight';
import { validate } from './validate';
import { verifyIsolation, type Probe } from './isolation';
import { rollback, type RollbackOptions, type RollbackResult } from './rollback';
import { renderReport, type StepOutcome } from './report';
import { generateScript } from './script/generate';
import { loadParser, splitScript } from './script/parse';
import { parseUnits, runScript } from './execute/runner';
import { acquireRunLock, ensureStateSchema, finishRun, operatorName, recordStep, releaseRunLock, startRun, tickManualItem, type RunRecord } from './state';
import { redact } from './redact';
import { displayName } from './db/sql';
import { droppedBackupTables, verifyBackups } from './backups';
import { finalize, cleanupBackups } from './finalize';
import { readStatus, type StatusInfo } from './status';
import type { LoadedSpec } from './spec/load';
import { formatCheckCount, plural } from '../shared/format';
import { findTraces, nothingToCleanUp, nothingToFinalize, nothingToUndo, type MigrationTraces } from './traces';

export const TOOL_VERSION = '0.1.0';

const CHANGES_DATA = new Set(['run', 'backup', 'migrate']);
const SCRIPT_STEPS = new Set<StepId>(['backup', 'migrate']);

export interface MigrationOptions {
  readonly database: string | ConnectionTarget;
  readonly spec: LoadedSpec;
  readonly onEvent?: EventListener;
  readonly logger?: Logger;
  readonly signal?: AbortSignal;
  /** Where the JSONL logs and reports go (default: .tenant-migration beside the spec). */
  readonly workFolder?: string;
  /** Passed to the project's test commands as DATABASE_URL. */
  readonly databaseUrlForTests?: string;
}

export interface StepResult {
  readonly step: StepId;
  readonly status: 'done' | 'failed' | 'skipped';
  readonly durationMs: number;
  readonly rows?: number;
  readonly summary: string;
  readonly next?: string;
  readonly checks: CheckResult[];
  readonly probes?: Probe[];
  /** Set when the step found nothing to act on and changed nothing. */
  readonly nothingToDo?: boolean;
}

export interface RunResult {
  readonly ok: boolean;
  readonly steps: StepResult[];
  readonly reportPath: string;
  readonly error?: MigrationError;
}

export class Migration {
  private modelPromise?: Promise<MigrationModel>;
  private run?: RunRecord;
  private log?: JsonlLog;
  private outcomes: StepOutcome[] = [];
  private gapsCache?: GapReport;
  readonly workFolder: string;

  private constructor(readonly session: Session, private readonly options: MigrationOptions) {
    this.workFolder = options.workFolder ?? path.join(path.dirname(options.spec.file ?? path.join(process.cwd(), 'x')), '.tenant-migration');
  }

  static async connect(options: MigrationOptions): Promise<Migration> {
    const session = await Session.open(options.database, { lockTimeoutMs: options.spec.spec.lockTimeoutMs });
    await session.query('SET row_security = off');
    return new Migration(session, options);
  }

  get spec(): LoadedSpec {
    return this.options.spec;
  }

  get logger(): Logger {
    return this.options.logger ?? silentLogger;
  }

  model(): Promise<MigrationModel> {
    this.modelPromise ??= resolveModel(this.session, this.options.spec);
    return this.modelPromise;
  }

  private emit(event: EngineEvent): void {
    this.log?.write(event);
    this.options.onEvent?.(event);
  }

  /** The script the team reviews: theirs when it exists, else generated from the spec (not written). */
  async scriptText(): Promise<{ text: string; exists: boolean }> {
    const file = this.spec.scriptPath;
    if (fs.existsSync(file)) return { text: fs.readFileSync(file, 'utf8'), exists: true };
    return { text: generateScript(await this.model()), exists: false };
  }

  async generate(force = false): Promise<{ path: string; written: boolean }> {
    const file = this.spec.scriptPath;
    if (fs.existsSync(file) && !force) return { path: file, written: false };
    const text = generateScript(await this.model());
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
    return { path: file, written: true };
  }

  /**
   * The mapping gaps. What blocks a run is always exact; `quick` (the preview) estimates how many rows of a large
   * table get the default org from a sample. An exact report also answers later quick asks.
   */
  async gaps(options: GapOptions = {}): Promise<GapReport> {
    if (this.gapsCache && (options.quick || !this.gapsCache.tables.some((t) => t.estimated))) return this.gapsCache;
    this.gapsCache = await findGaps(this.session, await this.model(), options);
    return this.gapsCache;
  }

  async mappingStub(): Promise<string> {
    return mappingStub(this.session, await this.model());
  }

  /** Read-only: writes nothing to the database or the workspace. Large tables' counts are estimated unless `exact`. */
  async plan(options: { exact?: boolean } = {}): Promise<Plan> {
    const model = await this.model();
    // The gaps wait on the database while the script is parsed here.
    const [gaps, { units, exists }] = await Promise.all([this.gaps({ quick: !options.exact }), (async () => {
      const { text, exists: written } = await this.scriptText();
      return { units: await parseUnits(text), exists: written };
    })()]);
    const { parseSync } = await loadParser();
    return buildPlan(parseSync as never, model, units, gaps, exists);
  }

  async status(): Promise<StatusInfo> {
    return readStatus(this.session, await this.model());
  }

  private async begin(command: string): Promise<void> {
    if (this.run) return;
    await ensureStateSchema(this.session);
    const { text } = await this.scriptText();
    this.run = await startRun(this.session, command, TOOL_VERSION, sha256(text));
    this.log = new JsonlLog(path.join(this.workFolder, 'runs'), command);
    this.log.write({ type: 'run', command, runId: this.run.id, database: this.session.description, operator: operatorName() });
  }

  private async end(ok: boolean): Promise<void> {
    if (!this.run) return;
    await finishRun(this.session, this.run, ok ? 'succeeded' : this.options.signal?.aborted ? 'cancelled' : 'failed').catch(() => undefined);
    await releaseRunLock(this.session).catch(() => undefined);
    this.log?.close();
    this.run = undefined;
  }

  /** Runs one step with events, timing, state and the "what next" of a failure. */
  private async step(step: StepId, body: () => Promise<Omit<StepResult, 'step' | 'durationMs' | 'status'> & { status?: StepResult['status'] }>): Promise<StepResult> {
    const started = performance.now();
    const startedAt = new Date().toISOString();
    this.emit({ type: 'step-started', step, title: STEP_TITLES[step], at: startedAt });
    if (this.run) await recordStep(this.session, this.run, step, 'running');
    // A cancel stops the running query on the server; the script runner does this itself for backup and migrate.
    const signal = SCRIPT_STEPS.has(step) ? undefined : this.options.signal;
    const cancel = () => { this.session.cancel().catch(() => undefined); };
    signal?.addEventListener('abort', cancel, { once: true });
    let result: StepResult;
    try {
      const out = await body();
      const status = out.status ?? (out.checks.some((c) => !c.ok && c.severity !== 'warning') ? 'failed' : 'done');
      result = { ...out, step, status, durationMs: Math.round(performance.now() - started) };
    } catch (error) {
      const e = this.options.signal?.aborted && !(error instanceof MigrationError)
        ? failed(`Cancelled during ${STEP_TITLES[step]}; the server stopped the running query`, 'Run again to continue: every step resumes where it stopped.')
        : asMigrationError(error);
      result = { step, status: 'failed', durationMs: Math.round(performance.now() - started), summary: e.message, next: e.next, checks: [] };
      signal?.removeEventListener('abort', cancel);
      this.finishStep(result, startedAt);
      if (this.run && !this.session.isClosed) await recordStep(this.session, this.run, step, 'failed', { summary: e.message, detail: { checks: [], next: e.next }, finished: true }).catch(() => undefined);
      throw e;
    }
    signal?.removeEventListener('abort', cancel);
    this.finishStep(result, startedAt);
    if (this.run) await recordStep(this.session, this.run, step, result.status, { rows: result.rows, summary: result.summary, detail: { checks: result.checks, next: result.next }, finished: true });
    return result;
  }

  private finishStep(result: StepResult, startedAt: string): void {
    this.outcomes = this.outcomes.filter((o) => o.step !== result.step);
    this.outcomes.push({ step: result.step, status: result.status, startedAt, durationMs: result.durationMs, rows: result.rows, summary: result.summary, next: result.next, checks: result.checks });
    for (const check of result.checks) this.emit({ type: 'check', step: result.step, check });
    this.emit({ type: 'step-finished', step: result.step, status: result.status, durationMs: result.durationMs, rows: result.rows, summary: result.summary, next: result.next });
  }

  private async writing<T>(command: string, body: () => Promise<T>): Promise<T> {
    const outer = !this.run;
    // A bad spec, an unusable session and refusals (conflicting mapping, missing default org) are reported
    // before anything is written, even the run record.
    if (outer) {
      // Another run is refused first: its DDL may hold or queue for table locks that our own reads would wait behind.
      await acquireRunLock(this.session);
      try {
        await assertWritableSession(this.session, await this.model());
        if (CHANGES_DATA.has(command)) await this.assertScriptParses();
        if (CHANGES_DATA.has(command)) await this.assertCanWrite();
        await this.begin(command);
      } catch (error) {
        await releaseRunLock(this.session).catch(() => undefined);
        throw error;
      }
    }
    let ok = false;
    try {
      const result = await body();
      // A step that ran to its end with failed checks is a failed run: the run's record agrees with the step's.
      ok = !(isStepResult(result) && result.status === 'failed');
      return result;
    } finally {
      if (outer) await this.end(ok);
    }
  }

  /** A script statement that does not parse would fail half-way through the run: it is found before anything is written. */
  private async assertScriptParses(): Promise<void> {
    const { text, exists } = await this.scriptText();
    if (!exists) return;
    const { parseSync } = await loadParser();
    for (const item of await splitScript(text)) {
      if (item.kind !== 'sql') continue;
      try {
        parseSync(item.text);
      } catch (error) {
        throw usageError(`${path.basename(this.spec.scriptPath)} line ${item.line}: ${(error as Error).message}`, 'Fix the script, then run again: nothing was run or changed.');
      }
    }
  }

  async prerequisites(): Promise<StepResult> {
    return this.step('prerequisites', async () => {
      const checks = await preflight(this.session, await this.model(), () => this.gaps({ quick: true }));
      const failedChecks = checks.filter((c) => !c.ok && c.severity !== 'warning');
      return { summary: formatCheckCount(checks), checks,
        next: failedChecks.length ? `Fix: ${failedChecks.map((c) => c.name).join(', ')}; then run again.` : undefined };
    });
  }

  private async assertCanWrite(): Promise<void> {
    const model = await this.model();
    await assertDefaultOrgExists(this.session, model);
    const gaps = await this.gaps({ quick: true });
    const blocking = gaps.findings.filter((f) => f.blocking);
    if (blocking.length > 0) {
      throw refused(`Conflicting mapping: ${blocking.map((f) => `${f.table}: ${f.message}`).join('; ')}`,
        `Resolve the rows named (${blocking.flatMap((f) => f.samples.slice(0, 3).map((s) => `${s.key}${s.detail ? ` ${s.detail}` : ''}`)).join('; ')}), then run again. "tenant-migrate plan" lists them all.`,
        blocking.flatMap((f) => f.samples.map((s) => `${f.table} ${s.key} ${s.detail ?? ''}`.trim())));
    }
  }

  async backup(): Promise<StepResult> {
    return this.writing('backup', () => this.step('backup', async () => {
      await this.assertCanWrite();
      const { text } = await this.scriptText();
      const hasPhases = (await parseUnits(text)).some((u) => u.phase === 'backup');
      const source = hasPhases ? text : generateScript(await this.model());
      await runScript(source, { session: this.session, step: 'backup', run: this.run, onEvent: (e) => this.emit(e), signal: this.options.signal, phases: ['prepare', 'backup'] });
      const backups = await verifyBackups(this.session);
      const dropped = await droppedBackupTables(this.session);
      const tables = (await this.model()).tables;
      const signedOff = (t: (typeof tables)[number]) => dropped.has(`${t.name.schema}.${t.name.name}`) && !backups.some((x) => x.record.table.schema === t.name.schema && x.record.table.name === t.name.name);
      if (tables.every(signedOff)) {
        return { status: 'skipped', summary: 'not taken again: cleanup dropped this migration\'s backups after sign-off (roll back first to start a new migration)', checks: [] };
      }
      const checks: CheckResult[] = tables.map((t) => {
        const b = backups.find((x) => x.record.table.schema === t.name.schema && x.record.table.name === t.name.name);
        const name = `${displayName(t.name)}: backup`;
        if (!b && signedOff(t)) return { name, ok: true, detail: 'dropped by cleanup after sign-off' };
        if (!b) return { name, ok: false, detail: 'no backup was recorded: is the backup section missing from the script?' };
        return { name, ok: b.matches, detail: b.matches ? `tenant_migration.${b.record.backupTable}: ${b.record.rowCount} rows, taken ${b.record.takenAt.toISOString()}` : `tenant_migration.${b.record.backupTable} does not match its recorded digest` };
      });
      const rows = backups.reduce((n, b) => n + b.record.rowCount, 0);
      return { summary: `${plural(backups.length, 'backup')}, ${plural(rows, 'row')}`, rows, checks };
    }));
  }

  async migrate(): Promise<StepResult> {
    return this.writing('migrate', () => this.step('migrate', async () => {
      await this.assertCanWrite();
      if (!fs.existsSync(this.spec.scriptPath)) await this.generate();
      const { text } = await this.scriptText();
      const result = await runScript(text, { session: this.session, step: 'migrate', run: this.run, onEvent: (e) => this.emit(e), signal: this.options.signal });
      return { summary: `${result.statements} statements, ${result.rows} rows written`, rows: result.rows, checks: [] };
    }));
  }

  async validate(): Promise<StepResult> {
    return this.writing('validate', () => this.step('validate', async () => {
      const checks = await validate(this.session, await this.model());
      const failures = checks.filter((c) => !c.ok && c.severity !== 'warning');
      return { summary: formatCheckCount(checks), checks,
        next: failures.length ? 'Look at the failed checks; if the migration stopped early, run "migrate" again (it resumes), else roll back.' : undefined };
    }));
  }

  async verifyIsolation(): Promise<StepResult> {
    return this.writing('verify-isolation', () => this.step('isolation', async () => {
      const { probes, bypasses } = await verifyIsolation(this.session, await this.model());
      const checks: CheckResult[] = [
        ...probes.map((p) => ({ name: `${p.table} ${p.operation} as ${p.actor}`, ok: p.ok, detail: p.expected === 'either' ? `${p.outcome} (the table's own policies decide within the org)` : `expected ${p.expected}, ${p.outcome}${p.ok ? '' : `: ${p.detail}`}` })),
        ...bypasses,
      ];
      const failures = probes.filter((p) => !p.ok).length;
      return { summary: failures === 0 ? `${probes.length} probes held` : `${failures} of ${probes.length} probes failed`, checks, probes,
        next: failures ? 'A tenant can reach another tenant\'s rows: do not open the system; roll back or fix the policies named.' : undefined };
    }));
  }

  async runTests(): Promise<StepResult> {
    return this.writing('tests', () => this.step('tests', async () => {
      const tests = this.spec.spec.tests;
      if (tests.length === 0) return { status: 'skipped', summary: 'no test commands in the spec', checks: [] };
      const checks: CheckResult[] = [];
      for (const t of tests) checks.push(await this.runTestCommand(t));
      const failures = checks.filter((c) => !c.ok).length;
      return { summary: failures === 0 ? `${checks.length} test command(s) passed` : `${failures} of ${checks.length} test command(s) failed`, checks,
        next: failures ? 'Read the failing command\'s output in the log; fix or roll back.' : undefined };
    }));
  }

  private runTestCommand(test: { name: string; command: string; cwd?: string }): Promise<CheckResult> {
    const folder = path.dirname(this.spec.file ?? path.join(process.cwd(), 'x'));
    return new Promise((resolve) => {
      const child = spawn(test.command, { shell: true, cwd: path.resolve(folder, test.cwd ?? '.'), env: { ...process.env, ...(this.options.databaseUrlForTests ? { DATABASE_URL: this.options.databaseUrlForTests } : {}) }, signal: this.options.signal });
      let output = '';
      const keep = (d: Buffer) => { output = (output + d.toString()).slice(-4000); };
      child.stdout.on('data', keep);
      child.stderr.on('data', keep);
      child.on('error', (e) => resolve({ name: test.name, ok: false, detail: redact(e.message) }));
      child.on('close', (code) => {
        const tail = redact(output.trim().split('\n').slice(-3).join(' | '));
        this.emit({ type: 'notice', step: 'tests', message: `${test.name}: exit ${code}\n${redact(output)}` });
        resolve({ name: test.name, ok: code === 0, detail: `exit ${code}${tail ? `: ${tail}` : ''}` });
      });
    });
  }

  async rollback(options: RollbackOptions): Promise<{ step: StepResult; result?: RollbackResult }> {
    const idle = await this.nothingToDo('rollback', nothingToUndo);
    if (idle) return { step: idle };
    let result: RollbackResult | undefined;
    const step = await this.writing('rollback', () => this.step('rollback', async () => {
      result = await rollback(this.session, await this.model(), options);
      const restored = result.restored.map((r) => `${r.table} ${r.rows}`).join(', ');
      return { summary: `${result.actions.length} changes undone${restored ? `; restored ${restored}` : ''}; backups kept as ${result.backupsKeptAs.join(', ') || 'none'}`, checks: [] };
    }));
    return { step, result };
  }

  /**
   * A step with nothing to act on ends here, skipped, before anything is written (not even the state schema or a run
   * record). Read under the run lock, so a run in progress is reported as such instead.
   */
  private async nothingToDo(step: StepId, why: (t: MigrationTraces) => string | undefined): Promise<StepResult | undefined> {
    await acquireRunLock(this.session);
    let reason: string | undefined;
    try {
      reason = why(await findTraces(this.session, await this.model()));
    } finally {
      await releaseRunLock(this.session);
    }
    if (!reason) return undefined;
    const result = await this.step(step, async () => ({ status: 'skipped', summary: reason, checks: [] }));
    return { ...result, nothingToDo: true };
  }

  /** Records that the operator did a manual prerequisite (who and when come from this machine). */
  async tickManualItem(item: ManualItem): Promise<void> {
    await ensureStateSchema(this.session);
    await tickManualItem(this.session, MANUAL_ITEMS[item]);
  }

  async finalize(): Promise<StepResult> {
    const idle = await this.nothingToDo('finalize', nothingToFinalize);
    if (idle) return idle;
    return this.writing('finalize', () => this.step('finalize', async () => {
      const dropped = await finalize(this.session, await this.model());
      return { summary: `the help for applications that do not set ${this.spec.spec.orgColumn} is off (${dropped} trigger(s) dropped)`, checks: [] };
    }));
  }

  async cleanup(): Promise<StepResult> {
    const idle = await this.nothingToDo('cleanup', nothingToCleanUp);
    if (idle) return idle;
    return this.writing('cleanup', () => this.step('cleanup', async () => {
      const dropped = await cleanupBackups(this.session);
      return { summary: `${dropped.length} backup table(s) dropped${dropped.length ? `: ${dropped.join(', ')}` : ''}`, checks: [] };
    }));
  }

  /** The whole guide (or the part from one checklist step on): stops at the first failure; the report is written either way. */
  async runAll(options: { from?: ChecklistStep } = {}): Promise<RunResult> {
    const steps: StepResult[] = [];
    let error: MigrationError | undefined;
    const startedAt = new Date().toISOString();
    let reportPath = '';
    try {
      await this.writing('run', async () => {
        try {
          await this.runSequence(options.from ?? 'prerequisites', steps);
        } finally {
          // The report is written either way, and recorded as a step while the run still holds the lock.
          await this.step('report', async () => {
            reportPath = await this.writeReport(startedAt);
            return { summary: path.basename(reportPath), checks: [] };
          }).catch(() => undefined);
        }
      });
    } catch (e) {
      error = asMigrationError(e);
    }
    if (!reportPath) reportPath = await this.writeReport(startedAt);
    return { ok: !error, steps, reportPath, error };
  }

  private async runSequence(first: ChecklistStep, steps: StepResult[]): Promise<void> {
    const sequence: [ChecklistStep, () => Promise<StepResult>][] = [
      ['prerequisites', () => this.prerequisites()], ['preview', () => this.preview()], ['backup', () => this.backup()], ['migrate', () => this.migrate()],
      ['validate', () => this.validate()], ['isolation', () => this.verifyIsolation()], ['tests', () => this.runTests()],
    ];
    const from = STEPS.indexOf(first);
    for (const [id, next] of sequence) {
      if (STEPS.indexOf(id) < from) continue;
      if (this.options.signal?.aborted) throw failed(`Cancelled before ${STEP_TITLES[id]}`, 'Run again to continue: every step resumes where it stopped.');
      const result = await next();
      steps.push(result);
      if (result.status !== 'failed') continue;
      if (result.step === 'prerequisites') await this.assertCanWrite(); // conflicts and a missing default org are refusals
      throw failed(`${STEP_TITLES[result.step]} failed: ${result.summary}`, result.next ?? 'See the report.');
    }
  }

  /** Step 1 inside a run: the plan and its mapping gaps, recorded like any step (nothing is written). */
  async preview(): Promise<StepResult> {
    return this.step('preview', async () => {
      const plan = await this.plan();
      const toDefault = plan.gaps.tables.reduce((n, t) => n + t.toDefault, 0);
      const checks: CheckResult[] = plan.gaps.findings.map((f) => ({ name: `${f.table}: ${f.kind}`, ok: !f.blocking, detail: f.message, severity: f.blocking ? 'error' : 'warning' }));
      const about = plan.gaps.tables.some((t) => t.estimated) ? 'about ' : '';
      return { summary: `${plan.statements.length} statements; ${about}${toDefault} row(s) get the default org`, checks: checks.map((c) => (c.ok ? { ...c, severity: undefined } : c)) };
    });
  }

  async writeReport(startedAt = new Date().toISOString()): Promise<string> {
    const manual = (await this.session.query<{ item: string; ticked_by: string; ticked_at: Date }>(
      `SELECT item, ticked_by, ticked_at FROM tenant_migration.manual_items ORDER BY ticked_at`).catch(() => ({ rows: [] }))).rows;
    const { text } = await this.scriptText();
    const markdown = renderReport({
      database: this.session.description, operator: operatorName(), startedAt, finishedAt: new Date().toISOString(), toolVersion: TOOL_VERSION,
      scriptPath: path.relative(path.dirname(this.spec.file ?? '.'), this.spec.scriptPath), scriptChecksum: sha256(text),
      steps: this.outcomes.length > 0 ? this.outcomes : await this.recordedOutcomes().catch(() => []), gaps: this.gapsCache, manualItems: manual.map((m) => ({ item: m.item, tickedBy: m.ticked_by, tickedAt: m.ticked_at.toISOString() })),
    });
    const folder = path.join(this.workFolder, 'reports');
    fs.mkdirSync(folder, { recursive: true });
    const file = path.join(folder, `report-${startedAt.replace(/[:.]/g, '-')}.md`);
    fs.writeFileSync(file, markdown);
    fs.writeFileSync(path.join(folder, 'latest.md'), markdown);
    return file;
  }

  /** For a report written in a later process: the steps as the database recorded them. */
  private async recordedOutcomes(): Promise<StepOutcome[]> {
    const status = await this.status();
    return status.steps.map((st) => ({ step: st.step, status: st.status === 'done' || st.status === 'failed' || st.status === 'skipped' ? st.status : 'pending', rows: st.rows, summary: st.summary }));
  }

  async close(): Promise<void> {
    await this.end(false).catch(() => undefined);
    await this.session.close();
  }
}

function isStepResult(value: unknown): value is StepResult {
  return typeof value === 'object' && value !== null && 'step' in value && 'status' in value && 'checks' in value;
}

export function sha256(text: string): string {
  return crypto.createHash('sha256').update(text).digest('hex');
}

export function asMigrationError(error: unknown): MigrationError {
  if (error instanceof MigrationError) return error;
  const e = error as { message?: string; code?: string };
  if (/would be affected by row-level security/.test(e.message ?? '')) {
    return failed(`The tool's own query would be filtered by row-level security (${e.message})`, 'Run as the tables\' owner with BYPASSRLS or as a superuser (Supabase: the postgres role), so that counts and backups see every row.');
  }
  if (e.code === '25006') {
    return failed(`The session is read-only (${e.message})`, 'Connect to the primary server as a user that can write (default_transaction_read_only off).');
  }
  if (e.code === '42501') {
    return failed(`Permission denied: ${e.message}`, 'Run as the owner of the tables (Supabase: the postgres role), or GRANT the privilege named.');
  }
  if (e.code === '55P03') {
    return failed(`A lock could not be obtained in time (${e.message})`, 'Another session holds a conflicting lock: find it in pg_stat_activity / pg_locks, let it finish or stop it, then run again.');
  }
  if (e.code === '57P01' || /terminat|Connection terminated|ECONNRESET/.test(e.message ?? '')) {
    return failed('The database connection was lost', 'Run the same command again: every step resumes where it stopped.');
  }
  return failed(redact(e.message ?? String(error)), 'See the log for details; run again once the cause is fixed.');
}

export { usageError };
