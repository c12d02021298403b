// The CLI contract: tenant-migrate <command> [--config FILE] [--database-url URL] [--yes] [--json] …
import { parseArgs } from 'node:util';
import { usageError } from '../engine/errors';

export const COMMANDS = ['init', 'plan', 'generate', 'backup', 'migrate', 'validate', 'verify-isolation', 'enforce', 'rollback', 'run', 'status', 'report', 'finalize', 'cleanup'] as const;
export type Command = (typeof COMMANDS)[number];

export const WRITING: ReadonlySet<Command> = new Set(['backup', 'migrate', 'enforce', 'rollback', 'run', 'finalize', 'cleanup']);

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
  /** enforce: back to transition mode; run: go on to enforce; both: the operator's confirmation. */
  readonly undo: boolean;
  readonly enforce: boolean;
  readonly appSendsContext: boolean;
  readonly help: boolean;
}

export const USAGE = `Usage: tenant-migrate <command> [options]

Commands:
  init              write tenant-migration.json and checks.sql for the guide's tables
  plan              show the plan and the mapping gaps (writes nothing; --exact to count every row)
  generate          write the migration script (--force to overwrite)
  backup            take the backups (once per migration)
  migrate           run the migration script (resumable)
  validate          run the validation checks
  verify-isolation  run the tenant isolation matrix
  enforce           end transition mode: requests without a tenant context see nothing, FORCE on
                    (--app-sends-context to confirm the application sends it; --undo to go back)
  rollback          undo the migration, keeping rows written since (--restore-data to restore the backups)
  run               preflight, backup, migrate, validate, verify isolation, tests; writes the report;
                    stops before enforce unless --enforce (with --app-sends-context)
  status            show the state recorded in the database
  report            write the report for the recorded state
  finalize          stop assigning orgs to rows written without one (once the application sets it)
  cleanup           drop the backups after sign-off

Options:
  --config FILE         the spec (default ./tenant-migration.json)
  --database-url URL    the database (default $DATABASE_URL; password from the URL or PGPASSWORD)
  --yes                 do not ask for confirmation (required without a terminal)
  --json                print one JSON document (schema version 1) on stdout
  --force               generate: overwrite the script
  --exact               plan: count every row of large tables (by default they are estimated from a sample)
  --restore-data        rollback: also restore the data from the backups
  --accept-data-loss    rollback --restore-data: restore even if rows written since would be lost
  --app-sends-context   enforce, run --enforce: confirm every request carries the tenant context
  --undo                enforce: back to transition mode
  --enforce             run: go on to the enforce step

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
        json: { type: 'boolean', default: false },
        force: { type: 'boolean', default: false },
        'restore-data': { type: 'boolean', default: false },
        'accept-data-loss': { type: 'boolean', default: false },
        exact: { type: 'boolean', default: false },
        undo: { type: 'boolean', default: false },
        enforce: { type: 'boolean', default: false },
        'app-sends-context': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (e) {
    throw usageError((e as Error).message.split('\n')[0]!, 'Run "tenant-migrate --help" for the options.');
  }
  const [command, ...extra] = parsed.positionals;
  const help = parsed.values.help ?? false;
  if (!command && help) return { command: 'status', config: '', yes: false, json: false, force: false, restoreData: false, acceptDataLoss: false, exact: false, undo: false, enforce: false, appSendsContext: false, help: true };
  if (!command) throw usageError('No command given', `Run one of: ${COMMANDS.join(', ')}.`);
  if (!(COMMANDS as readonly string[]).includes(command)) throw usageError(`Unknown command "${command}"`, `Run one of: ${COMMANDS.join(', ')}.`);
  if (extra.length > 0) throw usageError(`Unexpected argument "${extra[0]}"`, 'Options start with --; run "tenant-migrate --help".');
  if (parsed.values['restore-data'] && command !== 'rollback') throw usageError('--restore-data only applies to rollback', 'Remove it, or run "tenant-migrate rollback --restore-data".');
  if (parsed.values.exact && command !== 'plan') throw usageError('--exact only applies to plan', 'Remove it, or run "tenant-migrate plan --exact".');
  if (parsed.values.undo && command !== 'enforce') throw usageError('--undo only applies to enforce', 'Run "tenant-migrate enforce --undo".');
  if (parsed.values.enforce && command !== 'run') throw usageError('--enforce only applies to run', 'Run "tenant-migrate enforce" on its own, or "tenant-migrate run --enforce".');
  return {
    command: command as Command,
    config: parsed.values.config ?? 'tenant-migration.json',
    databaseUrl: parsed.values['database-url'] ?? process.env.DATABASE_URL,
    yes: parsed.values.yes ?? false,
    json: parsed.values.json ?? false,
    force: parsed.values.force ?? false,
    restoreData: parsed.values['restore-data'] ?? false,
    acceptDataLoss: parsed.values['accept-data-loss'] ?? false,
    exact: parsed.values.exact ?? false,
    undo: parsed.values.undo ?? false,
    enforce: parsed.values.enforce ?? false,
    appSendsContext: parsed.values['app-sends-context'] ?? false,
    help,
  };
}
