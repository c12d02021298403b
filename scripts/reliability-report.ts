// Renders the reliability report from the figures the reliability suite recorded (test-results/reliability/figures.json)
// into test-results/reliability/RELIABILITY.md: a test run never rewrites a committed file.
//   npm run test:reliability        runs the suite, then this
//   npx tsx scripts/reliability-report.ts   re-renders from the last recorded figures
//   npm run reliability:publish      renders into the committed RELIABILITY.md (the figures the project publishes)
// Exits 1 when a recorded test failed or a figure that must be zero is not (the file is written either way).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  FIGURES_FILE,
  ROOT,
  readStore,
  type BadInputFigure,
  type ConcurrencyFigure,
  type FaultFigure,
  type Figure,
  type IsolationFigure,
  type CspFigure,
  type NoteFigure,
  type RollbackFigure,
  type SecretsFigure,
} from '../test/reliability/support/figures';

const outArg = process.argv.find((a) => a.startsWith('--out='))?.slice('--out='.length);
const OUT = outArg ? path.resolve(ROOT, outArg) : path.join(ROOT, 'test-results', 'reliability', 'RELIABILITY.md');
const store = readStore();
const files = Object.entries(store.files).sort(([a], [b]) => a.localeCompare(b));
if (files.length === 0) {
  console.error(`No figures in ${path.relative(ROOT, FIGURES_FILE)}: run npm run test:reliability first.`);
  process.exit(1);
}
const all: Figure[] = files.flatMap(([, f]) => f.figures);
const of = <K extends Figure['kind']>(kind: K) => all.filter((f): f is Extract<Figure, { kind: K }> => f.kind === kind);
const tests = files.flatMap(([file, f]) => f.tests.map((t) => ({ ...t, file })));
const failedTests = tests.filter((t) => t.state !== 'passed');
const notes = new Map(of('note').map((n: NoteFigure) => [n.key, n.value]));

const faults = of('fault') as FaultFigure[];
const explored = faults.filter((f) => ['step start', 'between statements', 'mid-backfill'].includes(f.where));
const serverFaults = faults.filter((f) => !explored.includes(f));
const count = <T>(xs: T[], p: (x: T) => boolean) => xs.filter(p).length;
const rowsLost = faults.reduce((n, f) => n + f.rowsLost, 0);
const rollbacks = of('rollback') as RollbackFigure[];
const badInput = of('bad-input') as BadInputFigure[];
const isolation = of('isolation') as IsolationFigure[];
const secrets = of('secrets') as SecretsFigure[];
const concurrency = of('concurrency') as ConcurrencyFigure[];
const csp = of('csp') as CspFigure[];
const lockTimeouts = faults.filter((f) => f.where === 'lock timeout');
const suiteSeconds = Number(process.argv.find((a) => a.startsWith('--seconds='))?.slice('--seconds='.length) ?? NaN);
const secretHits = secrets.reduce((n, s) => n + s.hits, 0);
const sum = <T>(xs: T[], f: (x: T) => number) => xs.reduce((n, x) => n + f(x), 0);
const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} kB`;

/** Bad-input cases the engine suite defines (counted without running them). */
function engineBadInputCases(): number | undefined {
  const specs = [
    'test/cli/bad-input.test.ts',
    'test/cli/bad-input-db.test.ts',
    'test/cli/cli-exit-codes.test.ts',
  ].filter((f) => fs.existsSync(path.join(ROOT, f)));
  const r = spawnSync(
    process.execPath,
    [path.join(ROOT, 'node_modules', 'mocha', 'bin', 'mocha.js'), '--dry-run', '--reporter', 'json', ...specs],
    { cwd: ROOT, encoding: 'utf8' },
  );
  try {
    return (JSON.parse(r.stdout) as { stats: { tests: number } }).stats.tests;
  } catch {
    return undefined;
  }
}
const engineCases = engineBadInputCases();

const contexts = [...new Set(isolation.map((i) => i.context))];
const rows: [string, string, string][] = [
  [
    `Fault points tried / converged (seed ${notes.get('fault seed') ?? '?'}, from ${notes.get('fault candidates') ?? '?'} candidate points)`,
    `${explored.length} / ${count(explored, (f) => f.converged)}`,
    'all converge',
  ],
  [
    "… between statements / mid-backfill / at a step's start",
    `${count(explored, (f) => f.where === 'between statements')} / ${count(explored, (f) => f.where === 'mid-backfill')} / ${count(explored, (f) => f.where === 'step start')}`,
    '',
  ],
  [
    '… backend terminated by the server / client connection dropped',
    `${count(explored, (f) => f.fault === 'terminate backend')} / ${count(explored, (f) => f.fault === 'drop connection')}`,
    '',
  ],
  ['… steps covered', [...new Set(explored.map((f) => f.step))].join(', ') || '—', 'every step'],
  [
    'Server faults: restart mid-backfill, statement timeouts, lock timeouts (converged / tried)',
    `${count(serverFaults, (f) => f.converged)} / ${serverFaults.length}`,
    'all converge',
  ],
  ['Rows lost (after every fault and re-run)', String(rowsLost), '0'],
  [
    'Backups intact (digest equals recorded, rows equal the original)',
    `${count(faults, (f) => f.backupsIntact)} / ${faults.length}`,
    'all',
  ],
  ['Rollback exactness cases (exact / tried)', `${count(rollbacks, (r) => r.exact)} / ${rollbacks.length}`, 'all'],
  [
    'Bad-input cases in this suite: clear one-line error / nothing-changed proofs / cases',
    `${count(badInput, (b) => b.clearError)} / ${count(badInput, (b) => b.nothingChanged)} / ${badInput.length}`,
    'all',
  ],
  [
    'Bad-input and exit-code cases in the CLI suite (test/cli, counted, not re-run)',
    engineCases === undefined ? 'not counted' : String(engineCases),
    '',
  ],
  [
    `Isolation matrix: probes run as the application, data checked (${isolation.length} context × legacy-policy combinations)`,
    String(sum(isolation, (i) => i.probes)),
    '',
  ],
  [
    'Isolation failures per tenant-context kind',
    contexts
      .map(
        (c) =>
          `${c}: ${sum(
            isolation.filter((i) => i.context === c),
            (i) => i.failures,
          )}`,
      )
      .join(', ') || '—',
    '0',
  ],
  [
    '… denied as an error / as zero rows',
    `${sum(isolation, (i) => i.deniedAsError)} / ${sum(isolation, (i) => i.deniedAsNoRows)}`,
    '',
  ],
  [
    'Matrix not vacuous: with the isolation policy on reports dropped, failures found by this matrix / by verify-isolation',
    String(notes.get('mutation: isolation policy dropped, failures found (matrix / engine)') ?? '—'),
    '> 0 / > 0',
  ],
  [
    'Ways around RLS (a plain view, a SECURITY DEFINER function): shown to leak / reported by verify-isolation',
    String(notes.get('ways around RLS: leaking objects created / reported by verify-isolation') ?? '—'),
    '2 / 2',
  ],
  [
    'Engine isolation probes compared / failed or disagreeing',
    `${sum(isolation, (i) => i.engineProbes)} / ${sum(isolation, (i) => i.engineFailures)}`,
    '0 failing',
  ],
  [
    'Secrets searched: files (bytes) / database rows (bytes) / output of N commands (bytes)',
    secrets
      .map(
        (s) =>
          `${s.via}: ${s.files} (${kb(s.fileBytes)}) / ${s.databaseRows} (${kb(s.databaseBytes)}) / ${s.commands} (${kb(s.outputBytes)})`,
      )
      .join('; ') || '—',
    '',
  ],
  ['Secret hits (raw, URL-encoded, SQL-quoted, JSON-escaped)', String(secretHits), '0'],
  [
    'Plan preview webview: scripts / without the CSP nonce / remote sources',
    csp.map((c) => `${c.scripts} / ${c.withoutNonce} / ${c.remoteSources}`).join('; ') || '—',
    '≥1 / 0 / 0',
  ],
  [
    'Concurrency cases, CLI + CLI and extension + CLI (held / tried)',
    `${count(concurrency, (c) => c.ok)} / ${concurrency.length}`,
    'all',
  ],
  [
    'Lock timeout while the application holds a lock: retried with backoff, then a clear failure, re-run converged / tried',
    `${count(lockTimeouts, (f) => f.converged)} / ${lockTimeouts.length}`,
    'all',
  ],
];

const mustBeZero =
  rowsLost + secretHits + sum(isolation, (i) => i.failures + i.engineFailures) + count(csp, (c) => !c.ok);
const lines = [
  '# Reliability',
  '',
  `Produced by \`npm run test:reliability\` (${tests.length} tests in ${files.length} files${Number.isFinite(suiteSeconds) ? `, ${Math.floor(suiteSeconds / 60)} min ${suiteSeconds % 60} s` : ''}; figures recorded ${files
    .map(([, f]) => f.ranAt)
    .sort()
    .at(-1)}).`,
  'Each figure comes from a test that fails when the property breaks. Re-render with `npx tsx scripts/reliability-report.ts`',
  '(into test-results/reliability/; `npm run reliability:publish` into the committed RELIABILITY.md);',
  `reproduce the fault points with \`RELIABILITY_SEED=${notes.get('fault seed') ?? '<seed>'} npx mocha test/reliability/faults.test.ts\`.`,
  '',
  '| Property | Figure | Must be |',
  '|---|---|---|',
  ...rows.map(([a, b, c]) => `| ${a} | ${b} | ${c} |`),
  '',
  `**Tests: ${tests.length - failedTests.length} passed, ${failedTests.length} failed.**`,
  '',
];
if (failedTests.length > 0) {
  lines.push('## Failing tests', '', ...failedTests.map((t) => `- \`${t.file}\`: ${t.title}`), '');
}
const failedFigures = [
  ...faults
    .filter((f) => !f.converged || f.rowsLost > 0 || !f.backupsIntact)
    .map(
      (f) =>
        `fault: ${f.fault} at ${f.point} (${f.converged ? 'converged' : 'did not converge'}, ${f.rowsLost} rows lost, backups ${f.backupsIntact ? 'intact' : 'NOT intact'})`,
    ),
  ...rollbacks.filter((r) => !r.exact).map((r) => `rollback: ${r.case}`),
  ...badInput
    .filter((b) => !b.clearError || !b.nothingChanged)
    .map(
      (b) =>
        `bad input: ${b.case}${b.clearError ? '' : ' (no clear one-line error)'}${b.nothingChanged ? '' : ' (the database or the workspace changed)'}`,
    ),
  ...isolation
    .filter((i) => i.failures || i.engineFailures)
    .map(
      (i) =>
        `isolation: ${i.context}, ${i.variant}: ${i.failures} failures, ${i.engineFailures} engine failures/disagreements`,
    ),
  ...concurrency.filter((c) => !c.ok).map((c) => `concurrency: ${c.case}`),
  ...csp
    .filter((c) => !c.ok)
    .map((c) => `webview CSP: ${c.withoutNonce} script(s) without the nonce, ${c.remoteSources} remote source(s)`),
];
if (failedFigures.length > 0) lines.push('## Figures that do not hold', '', ...failedFigures.map((f) => `- ${f}`), '');
// The files' tests run interleaved (the fault points run in parallel with the rest), so each file's time is the sum of its tests'.
lines.push(
  '## By file',
  '',
  '| File | Tests | Failed | Seconds in its tests |',
  '|---|---|---|---|',
  ...files.map(
    ([file, f]) =>
      `| \`${file}\` | ${f.tests.length} | ${count(f.tests, (t) => t.state !== 'passed')} | ${(sum(f.tests, (t) => t.durationMs) / 1000).toFixed(1)} |`,
  ),
  '',
);
fs.mkdirSync(path.dirname(OUT), { recursive: true });
fs.writeFileSync(OUT, `${lines.join('\n')}\n`);
console.log(lines.slice(6, 8 + rows.length).join('\n'));
console.log(
  `\nWrote ${path.relative(ROOT, OUT)}: ${tests.length - failedTests.length} passed, ${failedTests.length} failed.`,
);
if (failedTests.length > 0 || mustBeZero > 0) process.exitCode = 1;
