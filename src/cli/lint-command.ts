// tenant-migrate lint FILE…: the SQL editor's migration lint for CI. Prints `file:line:col: rule: message` (or one
// JSON document with --json) and exits 1 when a file has a hazard (an error or a warning; notes do not fail).
import fs from 'node:fs';
import path from 'node:path';
import { loadParser } from '../engine/script/parse';
import { LineIndex } from '../engine/sql-editor/file-model';
import { lintText } from '../engine/sql-editor/lint/lint-text';
import {
  lintOptionsFromSpec,
  mergeLintOptions,
  type LintDiagnostic,
  type LintOptions,
} from '../engine/sql-editor/lint';
import { loadSpec } from '../engine/migration-spec/load';
import { ExitCode } from '../engine/errors';

export const LINT_USAGE = `Usage: tenant-migrate lint FILE… [options]

Lints migration scripts for long strong locks, statements that fail at run time or break the running application,
DDL that is not idempotent and row-level security that leaks between tenants (docs/lint.md lists the rules).

Options:
  --config FILE              the spec: its tenant tables and "lint" settings (default ./tenant-migration.json, if any)
  --pg-version N             the PostgreSQL major version the scripts run on (default 15)
  --assume-in-transaction    the runner wraps each file in one transaction
  --exclude RULE[,RULE]      turn rules off (the lint's ids or squawk's names)
  --json                     print one JSON document on stdout

Exit codes: 0 no hazard, 1 a hazard (an error or a warning) in some file, 2 usage error or unreadable file.`;

export interface LintFlags {
  readonly json: boolean;
  readonly config?: string;
  readonly postgresVersion?: number;
  readonly assumeInTransaction?: boolean;
  readonly exclude: readonly string[];
}

export interface LintFileResult {
  readonly file: string;
  readonly diagnostics: {
    rule: string;
    severity: string;
    line: number;
    column: number;
    message: string;
    fix?: { title: string; text: string };
  }[];
}

class UsageProblem extends Error {}

export function parseLintArgs(argv: readonly string[]): { files: string[]; flags: LintFlags; help: boolean } {
  const files: string[] = [];
  let json = false;
  let config: string | undefined;
  let postgresVersion: number | undefined;
  let assumeInTransaction: boolean | undefined;
  let help = false;
  const exclude: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new UsageProblem(`${arg} needs a value`);
      return v;
    };
    if (arg === '--json') json = true;
    else if (arg === '--help' || arg === '-h') help = true;
    else if (arg === '--config') config = value();
    else if (arg === '--pg-version') {
      postgresVersion = Number(value());
      if (!Number.isInteger(postgresVersion) || postgresVersion < 10)
        throw new UsageProblem('--pg-version takes a major version such as 15');
    } else if (arg === '--assume-in-transaction') assumeInTransaction = true;
    else if (arg === '--exclude')
      exclude.push(
        ...value()
          .split(',')
          .map((r) => r.trim())
          .filter(Boolean),
      );
    else if (arg.startsWith('--')) throw new UsageProblem(`Unknown option ${arg}`);
    else files.push(arg);
  }
  if (files.length === 0 && !help) throw new UsageProblem('No file given');
  return { files, flags: { json, config, postgresVersion, assumeInTransaction, exclude }, help };
}

const isHazard = (d: LintDiagnostic) => d.severity !== 'info';

/** Lints the files; the exit code says whether any has a hazard. */
export async function runLint(
  files: readonly string[],
  flags: LintFlags,
  write: (text: string) => void = (t) => process.stdout.write(t),
): Promise<number> {
  const specFile = flags.config ?? (fs.existsSync('tenant-migration.json') ? 'tenant-migration.json' : undefined);
  const fromSpec = specFile ? lintOptionsFromSpec(loadSpec(specFile)) : {};
  const options: LintOptions = mergeLintOptions(fromSpec, {
    postgresVersion: flags.postgresVersion,
    assumeInTransaction: flags.assumeInTransaction,
    rules: flags.exclude.length > 0 ? Object.fromEntries(flags.exclude.map((r) => [r, false])) : undefined,
  });
  const parser = await loadParser();
  const results: LintFileResult[] = [];
  let hazards = 0;
  for (const file of files) {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (e) {
      throw new UsageProblem(`Cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    const found = lintText(parser, text, options);
    const lines = new LineIndex(text);
    hazards += found.filter(isHazard).length;
    results.push({
      file,
      diagnostics: found.map((d) => {
        const { line, character } = lines.position(d.start);
        return {
          rule: d.code,
          severity: d.severity,
          line: line + 1,
          column: character + 1,
          message: d.message,
          ...(d.fix ? { fix: { title: d.fix.title, text: d.fix.text } } : {}),
        };
      }),
    });
  }
  if (flags.json)
    write(
      `${JSON.stringify({ schemaVersion: 1, command: 'lint', exitCode: hazards > 0 ? ExitCode.failed : ExitCode.ok, hazards, files: results }, null, 2)}\n`,
    );
  else {
    for (const r of results)
      for (const d of r.diagnostics)
        write(`${r.file}:${d.line}:${d.column}: ${d.rule}: ${d.severity === 'info' ? 'note: ' : ''}${d.message}\n`);
    const total = results.reduce((n, r) => n + r.diagnostics.length, 0);
    write(
      `${files.length} file${files.length === 1 ? '' : 's'} linted: ${hazards} hazard${hazards === 1 ? '' : 's'}${total > hazards ? `, ${total - hazards} note${total - hazards === 1 ? '' : 's'}` : ''}.\n`,
    );
  }
  return hazards > 0 ? ExitCode.failed : ExitCode.ok;
}

/** The `lint` command from its arguments (after the word "lint"). */
export async function lintCommand(argv: readonly string[]): Promise<number> {
  try {
    const { files, flags, help } = parseLintArgs(argv);
    if (help) {
      process.stdout.write(`${LINT_USAGE}\n`);
      return ExitCode.ok;
    }
    return await runLint(
      files.map((f) => path.normalize(f)),
      flags,
    );
  } catch (error) {
    const usage = error instanceof UsageProblem;
    const e = error as { oneLine?: string; message?: string; exitCode?: number };
    process.stderr.write(
      `tenant-migrate lint: ${e.oneLine ?? e.message}${usage ? '\nRun tenant-migrate lint --help.' : ''}\n`,
    );
    return usage ? ExitCode.usage : (e.exitCode ?? ExitCode.failed);
  }
}
