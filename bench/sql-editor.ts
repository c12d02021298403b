// Issue 4, item 6: CodeLens and lint for a 5,000-statement SQL file, once the parser is loaded. Times exactly what
// the extension computes per file (src/engine/sql-editor/file-model.ts: the split, the lenses with their positions, the lint
// with syntax errors), on first open and after edits. No database. Writes its own block into .bench/results.md.
// Usage: npm run bench -- --only sql-editor [--statements 5000] [--rounds 5] [--edits 40] [--no-write]
//        (npm run bench runs it too, after the migration scenarios); or: npx tsx bench/sql-editor.ts
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { loadParser, splitWith } from '../src/engine/script/parse';
import { LineIndex, SqlFileModel } from '../src/engine/sql-editor/file-model';
import { writeBlock } from './report';

export const TARGET_MS = 100;

export interface SqlEditorBenchOptions {
  statements: number;
  rounds: number;
  edits: number;
  write: boolean;
  out: string;
}

/** A migration-and-checks file as people write them: DDL, batched updates, DO blocks, checks, comments, \d. */
export function syntheticFile(statements: number): string {
  const forms = [
    (i: number) => `ALTER TABLE t${i} ADD COLUMN IF NOT EXISTS org_id uuid;`,
    (i: number) =>
      `-- the index for the tenant filter\nCREATE INDEX CONCURRENTLY IF NOT EXISTS t${i}_org ON t${i} (org_id);`,
    (i: number) => `-- expect: 0\nSELECT count(*) FROM t${i} WHERE org_id IS NULL AND note <> 'it''s; fine';`,
    (i: number) =>
      `UPDATE t${i} SET org_id = m.org_id FROM legacy_map m WHERE m.id = t${i}.id AND t${i}.org_id IS NULL AND t${i}.id BETWEEN ${i * 1000} AND ${i * 1000 + 999};`,
    (i: number) => `DO $$ BEGIN RAISE NOTICE 'batch ${i}; done'; END $$;`,
    (i: number) => `ALTER TABLE t${i} ADD CONSTRAINT t${i}_org_fk FOREIGN KEY (org_id) REFERENCES orgs (id) NOT VALID;`,
    (i: number) =>
      `/* validated separately: SHARE UPDATE EXCLUSIVE only */ ALTER TABLE t${i} VALIDATE CONSTRAINT t${i}_org_fk;`,
    (i: number) =>
      `-- expect: rows = 0\nSELECT id FROM t${i} t LEFT JOIN orgs o ON o.id = t.org_id WHERE o.id IS NULL LIMIT 10;`,
    (i: number) => (i % 80 === 8 ? `\\d+ t${i}` : `SET lock_timeout = '1s';`),
    (i: number) => `ALTER TABLE t${i} ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;`,
  ];
  return Array.from({ length: statements }, (_, i) => forms[i % forms.length]!(i)).join('\n');
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const p95 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil(xs.length * 0.95) - 1)]!;
const ms = (x: number) => `${x.toFixed(1)} ms`;

/** One text change as the extension handles it: begin() and the first lenses, then the rest in steps, then the lint. */
interface Pass {
  /** begin() and the lenses of what it split: what the editor shows first. */
  first: number;
  firstStatements: number;
  /** The longest single step the extension host runs (begin, a split step, a lint step, the lenses, the diagnostics). */
  longestStep: number;
  steps: number;
  /** Everything until the whole file has its lenses and diagnostics. */
  total: number;
  split: number;
  lenses: number;
  lint: number;
  statements: number;
  lensCount: number;
  diagnostics: number;
}

function pass(model: SqlFileModel, text: string): Pass {
  const timed = <T>(f: () => T): [T, number] => {
    const t = performance.now();
    const r = f();
    return [r, performance.now() - t];
  };
  const index = new LineIndex(text);
  const [, begin] = timed(() => model.begin(text));
  const [, firstLenses] = timed(() => model.lenses().map((l) => index.position(l.offset)));
  const firstStatements = model.statements.length;
  const stepTimes = [begin, firstLenses];
  let split = begin;
  for (;;) {
    const [done, t] = timed(() => model.resume());
    if (model.complete && t < 0.05 && done) break;
    stepTimes.push(t);
    split += t;
    if (done) break;
  }
  const [lensList, lenses] = timed(() => model.lenses().map((l) => index.position(l.offset)));
  stepTimes.push(lenses);
  let lint = 0;
  for (;;) {
    const [done, t] = timed(() => model.lintStep());
    stepTimes.push(t);
    lint += t;
    if (done) break;
  }
  const [found, diagnostics] = timed(() => model.diagnostics().map((d) => index.position(d.start)));
  stepTimes.push(diagnostics);
  lint += diagnostics;
  return {
    first: begin + firstLenses,
    firstStatements,
    longestStep: Math.max(...stepTimes),
    steps: stepTimes.length,
    total: split + firstLenses + lenses + lint,
    split,
    lenses,
    lint,
    statements: model.statements.length,
    lensCount: lensList.length,
    diagnostics: found.length,
  };
}

export async function runSqlEditorBench(o: SqlEditorBenchOptions): Promise<string> {
  const loadStarted = performance.now();
  const parser = await loadParser();
  const loadMs = performance.now() - loadStarted;
  const text = syntheticFile(o.statements);
  const log = (m: string) => console.log(`[sql-editor] ${m}`);
  log(`${o.statements} statements, ${(text.length / 1024).toFixed(0)} KB; parser loaded in ${ms(loadMs)}`);

  // Context: what the parser costs on the whole file in one call.
  let t = performance.now();
  parser.scanSync(text);
  const scanMs = performance.now() - t;
  t = performance.now();
  const items = splitWith(parser.scanSync, text);
  const splitMs = performance.now() - t;
  t = performance.now();
  for (const item of items)
    if (item.kind === 'sql') {
      try {
        parser.parseSync(item.text);
      } catch {
        /* a syntax error is a result too */
      }
    }
  const perStatementParseMs = performance.now() - t;

  const opens: Pass[] = [];
  for (let r = 0; r < o.rounds; r++) opens.push(pass(new SqlFileModel(parser), text));
  log(
    `first open: first lenses median ${ms(median(opens.map((p) => p.first)))}, whole file ${ms(median(opens.map((p) => p.total)))}, longest step ${ms(Math.max(...opens.map((p) => p.longestStep)))}`,
  );

  // Edits on one open model, as typing does: a character inside a statement, a new statement, a deleted one.
  const model = new SqlFileModel(parser);
  pass(model, text);
  let current = text;
  let seed = 7;
  const random = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const kinds: Record<string, Pass[]> = {
    'type a character in a statement (it no longer parses)': [],
    'add a statement (type ";" and a new line)': [],
    'delete a statement': [],
  };
  for (let e = 0; e < o.edits; e++) {
    const statements = model.statements;
    const target = statements[random(statements.length)]!.item;
    const kind = Object.keys(kinds)[e % 3]!;
    if (e % 3 === 0) current = `${current.slice(0, target.start + 1)}x${current.slice(target.start + 1)}`;
    else if (e % 3 === 1)
      current = `${current.slice(0, target.end)};\nSELECT ${e} AS added${current.slice(target.end)}`;
    else current = `${current.slice(0, target.start)}${current.slice(target.end + 1)}`;
    kinds[kind]!.push(pass(model, current));
  }
  const allEdits = Object.values(kinds).flat();
  log(
    `edit: whole file again median ${ms(median(allEdits.map((p) => p.total)))}, p95 ${ms(p95(allEdits.map((p) => p.total)))}; longest step ${ms(Math.max(...allEdits.map((p) => p.longestStep)))}`,
  );

  const last = opens.at(-1)!;
  const revision = (() => {
    try {
      return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    } catch {
      return 'unknown';
    }
  })();
  const verdict = (value: number) =>
    value < TARGET_MS ? `met (${ms(value)} < ${TARGET_MS} ms)` : `**not met** (${ms(value)})`;
  const row = (label: string, ps: Pass[]) => {
    const col = (f: (p: Pass) => number) => ms(median(ps.map(f)));
    const totals = ps.map((p) => p.total);
    return `| ${label} | ${col((p) => p.first)} (${Math.round(median(ps.map((p) => p.firstStatements)))} statements) | ${ms(Math.max(...ps.map((p) => p.longestStep)))} | ${ms(median(totals))} / ${ms(p95(totals))} | ${col((p) => p.split)} | ${col((p) => p.lenses)} | ${col((p) => p.lint)} |`;
  };
  const everyStep = [...opens, ...allEdits].map((p) => p.longestStep);
  const lines = [
    `### SQL editor: CodeLens and lint for ${o.statements.toLocaleString('en-US')} statements (issue 4)`,
    '',
    `- Date: ${new Date().toISOString()}; ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? 'unknown'}), load ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' / ')} (1/5/15 min); Node ${process.version}; code ${revision}`,
    `- Run: \`npm run bench -- --only sql-editor --statements ${o.statements} --rounds ${o.rounds} --edits ${o.edits}\`; the file: ${(text.length / 1024).toFixed(0)} KB, ${last.statements} statements, ${last.lensCount} CodeLens, ${last.diagnostics} diagnostics (\`bench/sql-editor.ts\` syntheticFile)`,
    `- What is timed: \`SqlFileModel\` (src/engine/sql-editor/file-model.ts) as the extension drives it (src/extension/sql-editor/models.ts, diagnostics.ts): \`begin()\` and the lenses of what it split (what the editor shows first), then \`resume()\` chunk by chunk and \`lintStep()\` batch by batch, each its own turn of the extension host's event loop, then all the lenses and the diagnostics. VS Code's own rendering is not included.`,
    '',
    '| | first lenses | longest step | whole file (median / p95) | split | CodeLens | lint |',
    '|---|---|---|---|---|---|---|',
    row(`first open (${o.rounds} rounds, fresh model each)`, opens),
    ...Object.entries(kinds).map(([kind, ps]) => row(`edit: ${kind} (${ps.length})`, ps)),
    '',
    `For context, on the whole file in one call: loading the parser (WASM) ${ms(loadMs)}; libpg-query \`scanSync\` ${ms(scanMs)} (it returns every token as JSON: ${(JSON.stringify(parser.scanSync(text)).length / 1e6).toFixed(1)} MB for this file); the scanner split ${ms(splitMs)}; \`parseSync\` statement by statement ${ms(perStatementParseMs)}.`,
    '',
    `Target (issue 4): CodeLens and lint under ${TARGET_MS} ms once the parser is loaded. First lenses on open: ${verdict(median(opens.map((p) => p.first)))} (median); no step of the extension host over it: ${verdict(p95(everyStep))} (p95 of the longest step per change; worst ${ms(Math.max(...everyStep))}); the whole file after an edit: ${verdict(p95(allEdits.map((p) => p.total)))} (p95); the whole file on first open: ${verdict(median(opens.map((p) => p.total)))} (median).`,
  ];
  const markdown = lines.join('\n');
  console.log(`\n${markdown}\n`);
  if (o.write) {
    writeBlock(o.out, 'bench:sql-editor', markdown);
    log(`written to ${path.relative(process.cwd(), o.out)}`);
  }
  return markdown;
}

export function parseSqlEditorArgs(argv: string[], out: string): SqlEditorBenchOptions {
  const o: SqlEditorBenchOptions = { statements: 5000, rounds: 5, edits: 45, write: true, out };
  for (let i = 0; i < argv.length; i++) {
    const value = () => Number(argv[++i]);
    switch (argv[i]) {
      case '--statements':
        o.statements = value();
        break;
      case '--rounds':
        o.rounds = value();
        break;
      case '--edits':
        o.edits = value();
        break;
      case '--no-write':
        o.write = false;
        break;
      case '--out':
        o.out = path.resolve(argv[++i]!);
        break;
      default:
        break;
    }
  }
  return o;
}

if (require.main === module) {
  runSqlEditorBench(
    parseSqlEditorArgs(process.argv.slice(2), path.join(__dirname, '..', '.bench', 'results.md')),
  ).catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
