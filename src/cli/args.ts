// The CLI contract: tenant-migrate <command> [--config FILE] [--database-url URL] [--yes] [--json] …
import { parseArgs } from 'node:util';
import { usageError } from '../engine/errors';
import { didYouMean } from '../shared/did-you-mean';
import { MANUAL_ITEM_IDS, isManualItem } from '../engine/manual-items';
import type { ManualItem } from '../engine/events';
import { OPT_IN_RUN_STEPS, STEP_IDS, runSequence, stepDefinition, stepForCli, type StepId } from '../engine/steps';

/** The commands that are not a step, before and after the steps' own (steps.ts) in --help. */
const BEFORE_STEPS = [
  ['init', "write tenant-migration.json and checks.sql for the guide's tables"],
  ['plan', 'show the plan and the mapping gaps (writes nothing; --exact to count every row)'],
  ['generate', 'write the migration script (--force to overwrite)'],
  ['tick', `tick manual prerequisites once done (who and when are recorded): ${MANUAL_ITEM_IDS.join(', ')}`],
  ['lint', 'lint SQL files for lock, transaction and row-level security hazards (no database; lint --help)'],
] as const;
const AFTER_STEPS = [
  [
    'run',
    'preflight, backup, migrate, validate, verify isolation, tests; writes the report (enforce only with --enforce)',
  ],
  ['status', 'show the state recorded in the database'],
  ['report', 'write the report for the recorded state'],
] as const;
const STEP_COMMANDS = STEP_IDS.flatMap((id) => {
  const cli = stepDefinition(id).cli;
  return cli ? [[cli.name, cli.help] as const] : [];
});
const HELP_LINES: readonly (readonly [string, string])[] = [...BEFORE_STEPS, ...STEP_COMMANDS, ...AFTER_STEPS];

/** `init`, `plan`…, or a step's CLI name. */
export type Command = string;
export const COMMANDS: readonly Command[] = HELP_LINES.map(([name]) => name);

/** Changes the database: asks for confirmation first (steps.ts says which steps write; `run` writes when one of its steps does). */
export function writes(command: Command): boolean {
  if (command === 'run') return runSequence().some((id) => stepDefinition(id).writes);
  const step = stepForCli(command);
  return step !== undefined && stepDefinition(step).writes;
}

export interface CliArgs {
  readonly command: Command;
  readonly config: string;
  readonly databaseUrl?: string;
  readonly yes: boolean;
  readonly json: boolean;
  readonly force: boolean;
  readonly restoreData: boolean;
  readonly acceptDataLoss: boolean;
  readonly exact: boolean;
  /** export-tests: the folder to write the pgTAP files to. */
  readonly out?: string;
  /** plan: every statement with its locks, not only the phases. */
  readonly statements: boolean;
  /** run: the opt-in steps asked for (`--<step>`). */
  readonly include: readonly StepId[];
  /** enforce: back to transition mode. */
  readonly undo: boolean;
  /** enforce, run --enforce: the operator confirms the application sends the tenant context. */
  readonly appSendsContext: boolean;
  /** A writing command: go on although manual prerequisites are not ticked (recorded in the audit log). */
  readonly untickedOk: boolean;
  /** tick: the manual items ticked. */
  readonly ticks: readonly ManualItem[];
  readonly help: boolean;
  readonly version: boolean;
}

export const USAGE = `Usage: tenant-migrate <command> [options]

Commands:
${HELP_LINES.map(([name, help]) => `  ${name.padEnd(18)}${help}`).join('\n')}

Options:
  --config FILE         the spec (default ./tenant-migration.json)
  --database-url URL    the database (default $DATABASE_URL; password from the URL or PGPASSWORD)
  --yes                 do not ask for confirmation (required without a terminal)
  --unticked-ok         go on with manual prerequisites not ticked (recorded in the audit log; --yes does not imply it)
  --json                print one JSON document (schema version 1) on stdout
  --force               generate: overwrite the script
  --exact               plan: count every row of large tables (by default they are estimated from a sample)
  --statements          plan: every statement with its locks (by default the phases and what they hold)
  --restore-data        rollback: also restore the data from the backups
  --accept-data-loss    rollback --restore-data: restore even if rows written since would be lost
  --app-sends-context   enforce (and run --enforce): confirm every request carries the tenant context
  --undo                enforce: back to transition mode (requests without a context keep their old access)
  --out DIR             export-tests: the folder for the pgTAP files (default supabase/tests/database, beside the spec)
${OPT_IN_RUN_STEPS.map((id) => `  --${optInFlag(id).padEnd(20)}run: also ${stepDefinition(id).title.toLowerCase()}\n`).join('')}
Exit codes: 0 ok, 1 a step or check failed, 2 usage or spec error, 3 refused, 4 cannot connect.`;

export function parseCli(argv: string[]): CliArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        config: { type: 'string', short: 'c' },
        'database-url': { type: 'string' },
        yes: { type: 'boolean', short: 'y', default: false },
        'unticked-ok': { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        force: { type: 'boolean', default: false },
        'restore-data': { type: 'boolean', default: false },
        'accept-data-loss': { type: 'boolean', default: false },
        exact: { type: 'boolean', default: false },
        undo: { type: 'boolean', default: false },
        'app-sends-context': { type: 'boolean', default: false },
        out: { type: 'string' },
        statements: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
        version: { type: 'boolean', short: 'V', default: false },
        ...Object.fromEntries(
          OPT_IN_RUN_STEPS.map((id) => [optInFlag(id), { type: 'boolean', default: false } as const]),
        ),
      },
    });
  } catch (e) {
    throw usageError((e as Error).message.split('\n')[0]!, 'Run "tenant-migrate --help" for the options.');
  }
  const [command, ...extra] = parsed.positionals;
  const help = parsed.values.help ?? false;
  const version = parsed.values.version ?? false;
  const nothing = {
    command: '',
    config: '',
    yes: false,
    json: false,
    force: false,
    restoreData: false,
    acceptDataLoss: false,
    exact: false,
    statements: false,
    include: [],
    undo: false,
    appSendsContext: false,
    untickedOk: false,
    ticks: [],
    help,
    version,
  };
  if (!command && (help || version)) return nothing;
  if (!command) throw usageError('No command given', `Run one of: ${COMMANDS.join(', ')}.`);
  if (!COMMANDS.includes(command)) {
    const guess = didYouMean(command, COMMANDS);
    throw usageError(
      `Unknown command "${command}"${guess ? ` (did you mean "${guess}"?)` : ''}`,
      `${guess ? `Run "tenant-migrate ${guess}", or one of` : 'Run one of'}: ${COMMANDS.join(', ')}.`,
    );
  }
  if (help) return { ...nothing, command };
  const ticks = command === 'tick' ? parseTicks(extra) : [];
  if (command !== 'tick' && extra.length > 0)
    throw usageError(`Unexpected argument "${extra[0]}"`, 'Options start with --; run "tenant-migrate --help".');
  if (parsed.values['unticked-ok'] && !writes(command))
    throw usageError(
      `--unticked-ok only applies to commands that change the database`,
      `Remove it: "${command}" does not change the database.`,
    );
  if (parsed.values['restore-data'] && command !== 'rollback')
    throw usageError(
      '--restore-data only applies to rollback',
      'Remove it, or run "tenant-migrate rollback --restore-data".',
    );
  if (parsed.values.statements && command !== 'plan')
    throw usageError('--statements only applies to plan', 'Remove it, or run "tenant-migrate plan --statements".');
  if (parsed.values.exact && command !== 'plan')
    throw usageError('--exact only applies to plan', 'Remove it, or run "tenant-migrate plan --exact".');
  if (parsed.values.undo && command !== 'enforce')
    throw usageError('--undo only applies to enforce', 'Run "tenant-migrate enforce --undo".');
  if (parsed.values.out !== undefined && command !== 'export-tests')
    throw usageError(
      '--out only applies to export-tests',
      'Remove it, or run "tenant-migrate export-tests --out DIR".',
    );
  const values = parsed.values as Record<string, unknown>;
  const include = OPT_IN_RUN_STEPS.filter((id) => values[optInFlag(id)] === true);
  if (include.length > 0 && command !== 'run')
    throw usageError(
      `--${optInFlag(include[0]!)} only applies to run`,
      `Remove it, or run "tenant-migrate run --${optInFlag(include[0]!)}".`,
    );
  return {
    command,
    config: parsed.values.config ?? 'tenant-migration.json',
    databaseUrl: parsed.values['database-url'] ?? process.env.DATABASE_URL,
    yes: parsed.values.yes ?? false,
    json: parsed.values.json ?? false,
    force: parsed.values.force ?? false,
    restoreData: parsed.values['restore-data'] ?? false,
    acceptDataLoss: parsed.values['accept-data-loss'] ?? false,
    exact: parsed.values.exact ?? false,
    out: parsed.values.out,
    statements: parsed.values.statements ?? false,
    include,
    undo: parsed.values.undo ?? false,
    appSendsContext: parsed.values['app-sends-context'] ?? false,
    untickedOk: parsed.values['unticked-ok'] ?? false,
    ticks,
    help,
    version,
  };
}

/** The options each command takes besides --config, --database-url and --json. */
const COMMAND_OPTIONS: Readonly<Record<string, readonly string[]>> = {
  init: ['--force'],
  plan: ['--exact', '--statements'],
  generate: ['--force'],
  rollback: ['--restore-data', '--accept-data-loss'],
  run: [...OPT_IN_RUN_STEPS.map((id) => `--${optInFlag(id)}`), '--app-sends-context'],
  enforce: ['--undo', '--app-sends-context'],
  'export-tests': ['--out'],
};

/** `tenant-migrate <command> --help`: what the command does and the options it takes. */
export function commandUsage(command: Command): string {
  const [, help] = HELP_LINES.find(([name]) => name === command)!;
  const options = USAGE.split('\n').filter((line) => /^ {2}--/.test(line));
  const own = [
    ...(COMMAND_OPTIONS[command] ?? []),
    ...(writes(command) ? ['--yes', '--unticked-ok'] : []),
    '--config',
    '--database-url',
    '--json',
  ];
  const lines = options.filter((line) => own.some((o) => line.trimStart().startsWith(`${o} `)));
  return [
    `Usage: tenant-migrate ${command}${command === 'tick' ? ' ITEM…' : ''} [options]`,
    '',
    `${help[0]!.toUpperCase()}${help.slice(1)}.`,
    '',
    'Options:',
    ...lines,
    '',
    writes(command)
      ? 'It changes the database: it asks for confirmation in a terminal, and needs --yes without one.'
      : command === 'tick'
        ? 'It records the ticks in the tenant_migration schema (and its audit log), and changes nothing else.'
        : 'It does not change the database.',
  ].join('\n');
}

function parseTicks(items: readonly string[]): ManualItem[] {
  if (items.length === 0)
    throw usageError(
      'No manual prerequisite given',
      `Run "tenant-migrate tick ITEM…" with one or more of: ${MANUAL_ITEM_IDS.join(', ')}.`,
    );
  for (const item of items) {
    if (isManualItem(item)) continue;
    const guess = didYouMean(item, MANUAL_ITEM_IDS);
    throw usageError(
      `Unknown manual prerequisite "${item}"${guess ? ` (did you mean "${guess}"?)` : ''}`,
      `Name one or more of: ${MANUAL_ITEM_IDS.join(', ')}.`,
    );
  }
  return [...new Set(items as ManualItem[])];
}

/** `run --<flag>` asks for an opt-in step: its CLI name, else its id. */
function optInFlag(step: StepId): string {
  return stepDefinition(step).cli?.name ?? step;
}
