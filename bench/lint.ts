// Issue 16, item 7: the migration lint of a large file, ours and squawk's binary on the same file in one run.
// Ours: split, parse and lint in-process once the parser is loaded (what `tenant-migrate lint` does per file), and
// the whole CLI as a process; squawk: its binary as a process (it has no in-process form).
// Usage: npm run bench -- --only lint [--statements 5000] [--rounds 5]   (prints the block; writes .bench/lint.json)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { loadParser, splitWith } from '../src/engine/script/parse';
import { lintText } from '../src/engine/sql-editor/lint/lint-text';
import { syntheticFile } from './sql-editor';

const ROOT = path.join(__dirname, '..');
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const ms = (x: number) => `${x.toFixed(1)} ms`;

/** A DO block as the generated script writes them: the lint reads its body too (squawk sees one DO statement). */
const doBlock = (i: number) =>
  `DO $tm$\nBEGIN\n  IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'c${i}') THEN\n    ALTER TABLE t${i} ADD CONSTRAINT c${i} CHECK (org_id IS NOT NULL) NOT VALID;\n  END IF;\nEND\n$tm$;`;

const TIME = '/usr/bin/time';

/** Wall time, and the CPU time (user + system) when /usr/bin/time is there: on a loaded machine the CPU time is what compares. */
function timedProcess(command: string, args: string[]): { ms: number; cpuMs?: number; findings: number } {
  const timed = fs.existsSync(TIME);
  const started = performance.now();
  const r = timed
    ? spawnSync(TIME, ['-f', 'cpu %U %S', command, ...args], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 })
    : spawnSync(command, args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  const elapsed = performance.now() - started;
  if (r.error) throw r.error;
  const cpu = /cpu ([\d.]+) ([\d.]+)\s*$/.exec(r.stderr);
  return {
    ms: elapsed,
    cpuMs: cpu ? 1000 * (Number(cpu[1]) + Number(cpu[2])) : undefined,
    findings: (`${r.stdout}${r.stderr}`.match(/^[^\n]+?:\d+:\d+: /gm) ?? []).length,
  };
}

export async function runLintBench(argv: string[]): Promise<string> {
  let statements = 5000;
  let rounds = 5;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--statements') statements = Number(argv[++i]);
    else if (argv[i] === '--rounds') rounds = Number(argv[++i]);
  }
  const squawk = path.join(ROOT, 'node_modules', '@squawk-cli', `${process.platform}-${process.arch}`, 'bin', 'squawk');
  if (!fs.existsSync(squawk))
    throw new Error(`No squawk binary at ${squawk}: npm install --save-dev --save-exact squawk-cli`);
  const work = path.join(ROOT, '.bench');
  fs.mkdirSync(work, { recursive: true });
  const file = path.join(work, 'lint-large.sql');
  // psql's meta-commands (\\d+) are left out: squawk reads them as syntax errors.
  const body = syntheticFile(statements)
    .split('\n')
    .filter((line) => !line.startsWith('\\'));
  const text = `SET statement_timeout = 0;\n${body.join('\n')}\n${Array.from({ length: Math.round(statements / 10) }, (_, i) => doBlock(i)).join('\n')}\n`;
  fs.writeFileSync(file, text);
  const parser = await loadParser();
  const ours: number[] = [];
  const oursCpu: number[] = [];
  let found = 0;
  for (let r = 0; r < rounds; r++) {
    const started = performance.now();
    const cpuStarted = process.cpuUsage();
    found = lintText(parser, text).length;
    ours.push(performance.now() - started);
    const cpu = process.cpuUsage(cpuStarted);
    oursCpu.push((cpu.user + cpu.system) / 1000);
  }
  const cli = path.join(ROOT, 'dist', 'cli.js');
  const oursCli = fs.existsSync(cli)
    ? Array.from({ length: rounds }, () => timedProcess(process.execPath, [cli, 'lint', file]))
    : [];
  const theirs = Array.from({ length: rounds }, () => timedProcess(squawk, ['--reporter', 'gcc', file]));
  const version = spawnSync(squawk, ['--version'], { encoding: 'utf8' }).stdout.trim();
  const lintMs = median(ours);
  const squawkMs = median(theirs.map((t) => t.ms));
  const cpuOf = (ts: { cpuMs?: number }[]) =>
    ts.every((t) => t.cpuMs !== undefined) ? median(ts.map((t) => t.cpuMs!)) : undefined;
  const squawkCpu = cpuOf(theirs);
  const cliCpu = oursCli.length ? cpuOf(oursCli) : undefined;
  const cpuCell = (x: number | undefined) => (x === undefined ? 'n/a' : ms(x));
  const ratio = (a: number | undefined, b: number | undefined) =>
    a === undefined || b === undefined ? 'n/a' : `${(a / b).toFixed(2)}×`;
  const lines = [
    `### Migration lint: a ${(text.length / 1024).toFixed(0)} KB file, ours and squawk's (issue 16)`,
    '',
    `- Date: ${new Date().toISOString()}; ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? 'unknown'}), load ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' / ')}; Node ${process.version}; ${version}`,
    `- Run: \`npm run bench -- --only lint --statements ${statements} --rounds ${rounds}\`; the file: bench/sql-editor.ts syntheticFile(${statements}) and ${Math.round(statements / 10)} DO blocks (${splitWith(parser.scanSync, text).length} statements)`,
    '',
    '| | wall (median) | CPU, user + system (median) | findings |',
    '|---|---|---|---|',
    `| ours, in-process (split and parse in one call, lint; parser loaded) | ${ms(lintMs)} | ${ms(median(oursCpu))} | ${found} |`,
    ...(oursCli.length
      ? [
          `| ours, \`node dist/cli.js lint\` (process: Node start, WASM load, read, lint, print) | ${ms(median(oursCli.map((t) => t.ms)))} | ${cpuCell(cliCpu)} | ${oursCli[0]!.findings} |`,
        ]
      : []),
    `| squawk binary (process) | ${ms(squawkMs)} | ${cpuCell(squawkCpu)} | ${theirs[0]!.findings} |`,
    '',
    `Ratio to squawk, wall: in-process ${ratio(lintMs, squawkMs)}${oursCli.length ? `, as a process ${ratio(median(oursCli.map((t) => t.ms)), squawkMs)}` : ''}; CPU: in-process ${ratio(median(oursCpu), squawkCpu)}${oursCli.length ? `, as a process ${ratio(cliCpu, squawkCpu)}` : ' (build dist/cli.js for the process row)'}.`,
  ];
  const markdown = lines.join('\n');
  console.log(`\n${markdown}\n`);
  fs.writeFileSync(
    path.join(work, 'lint.json'),
    JSON.stringify({ statements, rounds, ours, oursCpu, oursCli, squawk: theirs, version }, null, 2),
  );
  return markdown;
}

if (require.main === module) {
  runLintBench(process.argv.slice(2)).catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
