// Issue 16, item 7: the migration lint of a large file, ours and squawk's binary on the same file in one run.
// Ours: split, parse and lint in-process once the parser is loaded (what the editor and `tenant-migrate lint` do
// per file), and the whole CLI as a process; squawk: its binary as a process (it has no in-process form).
// Usage: npm run bench -- --only lint [--statements 5000] [--rounds 5]   (prints the block; writes .bench/lint.json)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { loadParser, splitWith } from '../src/engine/script/parse';
import { MigrationLinter } from '../src/engine/sql/lint';
import { syntheticFile } from './sql-editor';

const ROOT = path.join(__dirname, '..');
const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2; };
const ms = (x: number) => `${x.toFixed(1)} ms`;

/** A DO block as the generated script writes them: the lint reads its body too (squawk sees one DO statement). */
const doBlock = (i: number) => `DO $tm$\nBEGIN\n  IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'c${i}') THEN\n    ALTER TABLE t${i} ADD CONSTRAINT c${i} CHECK (org_id IS NOT NULL) NOT VALID;\n  END IF;\nEND\n$tm$;`;

function timedProcess(command: string, args: string[]): { ms: number; status: number | null; findings: number } {
  const started = performance.now();
  const r = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  const elapsed = performance.now() - started;
  if (r.error) throw r.error;
  const text = `${r.stdout}${r.stderr}`;
  return { ms: elapsed, status: r.status, findings: (text.match(/^[^\n]+?:\d+:\d+: /gm) ?? []).length };
}

export async function runLintBench(argv: string[]): Promise<string> {
  let statements = 5000;
  let rounds = 5;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--statements') statements = Number(argv[++i]);
    else if (argv[i] === '--rounds') rounds = Number(argv[++i]);
  }
  const squawk = path.join(ROOT, 'node_modules', '@squawk-cli', `${process.platform}-${process.arch}`, 'bin', 'squawk');
  if (!fs.existsSync(squawk)) throw new Error(`No squawk binary at ${squawk}: npm install --save-dev --save-exact squawk-cli`);
  const work = path.join(ROOT, '.bench');
  fs.mkdirSync(work, { recursive: true });
  const file = path.join(work, 'lint-large.sql');
  // psql's meta-commands (\\d+) are left out: squawk reads them as syntax errors.
  const body = syntheticFile(statements).split('\n').filter((line) => !line.startsWith('\\'));
  const text = `SET statement_timeout = 0;\n${body.join('\n')}\n${Array.from({ length: Math.round(statements / 10) }, (_, i) => doBlock(i)).join('\n')}\n`;
  fs.writeFileSync(file, text);
  const parser = await loadParser();
  const ours: number[] = [];
  let found = 0;
  for (let r = 0; r < rounds; r++) {
    const started = performance.now();
    const linter = new MigrationLinter(parser.parseSync, parser.parsePlPgSQLSync);
    const items = splitWith(parser.scanSync, text);
    linter.prime(items);
    found = linter.lint(items, { source: text }).length;
    ours.push(performance.now() - started);
  }
  const cli = path.join(ROOT, 'dist', 'cli.js');
  const oursCli = fs.existsSync(cli) ? Array.from({ length: rounds }, () => timedProcess(process.execPath, [cli, 'lint', file])) : [];
  const theirs = Array.from({ length: rounds }, () => timedProcess(squawk, ['--reporter', 'gcc', file]));
  const version = spawnSync(squawk, ['--version'], { encoding: 'utf8' }).stdout.trim();
  const lintMs = median(ours);
  const squawkMs = median(theirs.map((t) => t.ms));
  const lines = [
    `### Migration lint: a ${(text.length / 1024).toFixed(0)} KB file, ours and squawk's (issue 16)`, '',
    `- Date: ${new Date().toISOString()}; ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? 'unknown'}), load ${os.loadavg().map((l) => l.toFixed(1)).join(' / ')}; Node ${process.version}; ${version}`,
    `- Run: \`npm run bench -- --only lint --statements ${statements} --rounds ${rounds}\`; the file: bench/sql-editor.ts syntheticFile(${statements}) and ${Math.round(statements / 10)} DO blocks (${splitWith(parser.scanSync, text).length} statements)`,
    '',
    '| | median | findings |',
    '|---|---|---|',
    `| ours, in-process (split, parse, lint; parser loaded) | ${ms(lintMs)} | ${found} |`,
    ...(oursCli.length ? [`| ours, \`node dist/cli.js lint\` (process: Node start, WASM load, read, lint, print) | ${ms(median(oursCli.map((t) => t.ms)))} | ${oursCli[0]!.findings} |`] : []),
    `| squawk binary (process) | ${ms(squawkMs)} | ${theirs[0]!.findings} |`,
    '',
    `Ratio, ours in-process / squawk: ${(lintMs / squawkMs).toFixed(2)}×${oursCli.length ? `; ours as a process / squawk: ${(median(oursCli.map((t) => t.ms)) / squawkMs).toFixed(2)}×` : ' (build dist/cli.js for the process row)'}.`,
  ];
  const markdown = lines.join('\n');
  console.log(`\n${markdown}\n`);
  fs.writeFileSync(path.join(work, 'lint.json'), JSON.stringify({ statements, rounds, ours, oursCli: oursCli.map((t) => t.ms), squawk: theirs.map((t) => t.ms), version }, null, 2));
  return markdown;
}

if (require.main === module) {
  runLintBench(process.argv.slice(2)).catch((error: unknown) => { console.error(error); process.exit(1); });
}
