// tenant-migrate: the migration guide as a command-line tool on the same engine as the extension.
import { commandUsage, parseCli, USAGE, writes, type CliArgs } from './args';
import { confirm } from './confirm';
import { jsonDocument } from './output';
import { TerminalChecklist, formatDuration } from './terminal';
import { writeInitFiles } from './init';
import { MigrationError, ExitCode, failed, usageError } from '../engine/errors';
import { loadSpec } from '../engine/migration-spec/load';
import { Migration, TOOL_VERSION, asMigrationError, type StepResult } from '../engine/migration';
import { describeTarget, parseConnectionUrl } from '../engine/db/connection-options';
import { redact } from '../engine/redact';
import { stepForCli } from '../engine/steps';
import { MANUAL_ITEMS } from '../engine/events';
import { describeManualItems, type UntickedPolicy } from '../engine/manual-items';
import { CHECKING_EXACTLY, renderExactChecks, renderPlan } from './render-plan';
import type { Plan } from '../engine/plan';
import { loadParser } from '../engine/script/parse';
import { lintCommand } from './lint-command';
import { renderStatus } from './render-status';

async function execute(
  args: CliArgs,
  say: (line: string) => void,
  checklist: TerminalChecklist,
  signal: AbortSignal,
): Promise<{ code: number; result: unknown }> {
  if (args.command === 'init') {
    const files = writeInitFiles(args.config, args.force);
    say(`Wrote ${files.join(' and ')}. Adjust the table names and the default org, then run "tenant-migrate plan".`);
    return { code: 0, result: { files } };
  }
  const spec = loadSpec(args.config);
  if (!args.databaseUrl) throw usageError('No database given', 'Pass --database-url URL or set DATABASE_URL.');
  const target = parseConnectionUrl(args.databaseUrl);
  if (writes(args.command)) {
    const what =
      args.command === 'rollback' && args.restoreData
        ? 'roll back and restore the data from the backups in'
        : `${args.command}`;
    const ok = await confirm(
      `${what === args.command ? `Run "${args.command}" on` : `This will ${what}`} ${describeTarget(target)}?`,
      args.yes,
    );
    if (!ok)
      throw new MigrationError(
        'refused',
        'Not confirmed: nothing was changed',
        'Run again and answer y, or pass --yes.',
      );
  }
  // The plan parses the script: the parser (WebAssembly) compiles while the connection opens.
  if (args.command === 'plan') void loadParser().catch(() => undefined);
  const migration = await Migration.connect({
    database: target,
    spec,
    onEvent: checklist.handle,
    signal,
    databaseUrlForTests: args.databaseUrl,
  });
  try {
    return await dispatch(args, migration, say);
  } finally {
    await migration.close();
  }
}

/** A failed run still has a result (steps, report) for --json. */
class RunFailure extends Error {
  constructor(
    readonly error: MigrationError,
    readonly result: unknown,
  ) {
    super(error.message);
  }
}

/** Rollback's JSON keeps its shape: the step's fields with what was undone and restored beside them. */
function rolledBack(
  step: StepResult,
  restoreData: boolean,
  say: (line: string) => void,
): { code: number; result: unknown } {
  const { rollback: result, ...fields } = step;
  if (result)
    say(
      `Rolled back. The legacy schema is back${restoreData ? ' and the data equals the backups' : '; rows written since the migration are kept'}.`,
    );
  return {
    code: step.status === 'failed' ? ExitCode.failed : ExitCode.ok,
    result: { ...fields, actions: result?.actions, restored: result?.restored, backupsKeptAs: result?.backupsKeptAs },
  };
}

/** Writing commands refuse while manual prerequisites are not ticked, unless --unticked-ok (which the audit log records). */
function untickedPolicy(args: CliArgs): UntickedPolicy {
  if (args.untickedOk) return { goOn: '--unticked-ok' };
  return {
    refuse: (items) =>
      `Tick them once done ("tenant-migrate tick ${items.join(' ')}"), or pass --unticked-ok to go on without them (recorded in the audit log).`,
  };
}

async function dispatch(
  args: CliArgs,
  m: Migration,
  say: (line: string) => void,
): Promise<{ code: number; result: unknown }> {
  switch (args.command) {
    case 'plan': {
      let first = false;
      const onFirstAnswer = (p: Plan) => {
        first = true;
        say(renderPlan(p, { statements: args.statements }));
        say(`\n${CHECKING_EXACTLY}`);
      };
      // --json prints the exact answer alone: no first answer to wait for.
      const plan = await m.plan({ exact: args.exact, onFirstAnswer: args.json ? undefined : onFirstAnswer });
      say(first ? renderExactChecks(plan) : renderPlan(plan, { statements: args.statements }));
      return { code: plan.gaps.blocking || plan.shapes.some((s) => s.blocking) ? ExitCode.refused : 0, result: plan };
    }
    case 'generate': {
      const out = await m.generate(args.force);
      if (!out.written)
        throw usageError(
          `${out.path} exists and was not overwritten`,
          'Review it, or pass --force to regenerate it from the spec.',
        );
      say(`Wrote ${out.path}. Review it, then run "tenant-migrate run".`);
      return { code: 0, result: out };
    }
    case 'tick': {
      for (const item of args.ticks) {
        await m.tickManualItem(item);
        say(`☑ ${MANUAL_ITEMS[item]} (recorded with who and when)`);
      }
      const unticked = await m.untickedManualItems();
      say(
        unticked.length ? `Not ticked yet: ${describeManualItems(unticked)}.` : 'Every manual prerequisite is ticked.',
      );
      return { code: 0, result: { ticked: args.ticks, unticked } };
    }
    case 'run': {
      if (!(await import('node:fs')).existsSync(m.spec.scriptPath)) {
        const out = await m.generate();
        say(`Generated ${out.path} from the spec.`);
      }
      const result = await m.runAll({
        include: args.include,
        stepOptions: { appSendsContext: args.appSendsContext, untickedManualItems: untickedPolicy(args) },
      });
      say(`Report: ${result.reportPath}`);
      if (result.ok)
        say(
          'If anything looks wrong: "tenant-migrate rollback" undoes the migration and keeps rows written since; "--restore-data" also restores the backups.',
        );
      if (result.error) throw new RunFailure(result.error, { ...result, error: undefined });
      return { code: 0, result };
    }
    case 'status': {
      const status = await m.status();
      for (const line of renderStatus(status)) say(line);
      return { code: 0, result: status };
    }
    case 'report': {
      const file = await m.writeReport();
      say(`Report: ${file}`);
      return { code: 0, result: { reportPath: file } };
    }
    default: {
      const step = stepForCli(args.command);
      if (!step) throw usageError(`Unknown command ${args.command}`, 'Run tenant-migrate --help.');
      const result = await m
        .runStep(step, {
          restoreData: args.restoreData,
          acceptDataLoss: args.acceptDataLoss,
          undo: args.undo,
          appSendsContext: args.appSendsContext,
          exportTo: args.out,
          untickedManualItems: untickedPolicy(args),
        })
        .catch((e: unknown) => {
          if (e instanceof MigrationError) for (const detail of e.details) say(`  ${firstLine(detail)}`);
          throw e;
        });
      for (const file of result.exportedFiles ?? []) say(`Wrote ${file}`);
      if (result.nothingToDo) {
        say(result.summary);
        return { code: ExitCode.ok, result };
      }
      if (step === 'rollback') return rolledBack(result, args.restoreData, say);
      if (step === 'enforce') for (const c of result.checks) say(`  ${c.name}: ${c.detail}`);
      return { code: result.status === 'failed' ? ExitCode.failed : ExitCode.ok, result };
    }
  }
}

export async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'lint') return lintCommand(argv.slice(1));
  let args: CliArgs | undefined;
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const checklistOut = new TerminalChecklist();
  const say = (line: string) => {
    if (!args?.json) process.stdout.write(`${redact(line)}\n`);
  };
  try {
    args = parseCli(argv);
    if (args.version) {
      process.stdout.write(`tenant-migrate ${TOOL_VERSION}\n`);
      return 0;
    }
    if (args.help) {
      process.stdout.write(`${args.command ? commandUsage(args.command) : USAGE}\n`);
      return 0;
    }
    const checklist = args.json ? new TerminalChecklist(nullStream()) : checklistOut;
    const started = performance.now();
    const outcome = await execute(args, say, checklist, controller.signal);
    checklist.finish();
    const code = controller.signal.aborted && outcome.code !== 0 ? INTERRUPTED : outcome.code;
    if (args.json) process.stdout.write(`${jsonDocument(args.command, code, outcome.result)}\n`);
    else if (code === INTERRUPTED)
      say(
        `Cancelled after ${formatDuration(Math.round(performance.now() - started))}: run again to continue, every step resumes where it stopped.`,
      );
    else if (!['init', 'status', 'plan', 'tick'].includes(args.command))
      say(
        `${code === 0 ? 'Done' : 'Finished with failures'} in ${formatDuration(Math.round(performance.now() - started))}.`,
      );
    return code;
  } catch (error) {
    const cause = error instanceof RunFailure ? error.error : error;
    const e =
      controller.signal.aborted && !(cause instanceof MigrationError)
        ? failed('Cancelled', 'Run again to continue: every step resumes where it stopped.')
        : asMigrationError(cause);
    // Interrupted (Ctrl-C, SIGTERM): 130, as shells report a command stopped by SIGINT.
    const code = controller.signal.aborted ? INTERRUPTED : e.exitCode;
    if (args?.json)
      process.stdout.write(
        `${jsonDocument(args.command, code, error instanceof RunFailure ? error.result : null, e)}\n`,
      );
    else {
      checklistOut.finish(e);
      process.stderr.write(`tenant-migrate: ${redact(e.oneLine)}\n`);
    }
    return code;
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}

const INTERRUPTED = 130;

/** A detail's first line (a failed statement's whole text is in --json and the log). */
function firstLine(detail: string): string {
  const [first = '', ...rest] = detail.split('\n');
  return rest.length ? `${first} …` : first;
}

function nullStream(): NodeJS.WritableStream {
  return { write: () => true } as unknown as NodeJS.WritableStream;
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
