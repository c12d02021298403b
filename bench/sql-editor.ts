// Issue 4, item 6: CodeLens and lint for a 5,000-statement SQL file, once the parser is loaded. Times exactly what
// the extension computes per file (src/engine/sql/file-model.ts: the split, the lenses with their positions, the lint
// with syntax errors), on first open and after edits. No database. Writes its own block into BENCHMARKS.md.
// Usage: npm run bench -- --only sql-editor [--statements 5000] [--rounds 5] [--edits 40] [--no-write]
//        (npm run bench runs it too, after the migration scenarios); or: npx tsx bench/sql-editor.ts
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { loadParser, splitWith } from '../src/engine/script/parse';
import { LineIndex, SqlFileModel } from '../src/engine/sql/file-model';
import { writeBlock } from './report';

export const TARGET_MS = 100;

export interface SqlEditorBenchOptions { statements: number; rounds: number; edits: number; write: boolean; out: string }

/** A migration-and-checks file as people write them: DDL, batched updates, DO blocks, checks, comments, \d. */
export function syntheticFile(statements: number): string {
  const forms = [
    (i: number) => `ALTER TABLE t${i} ADD COLUMN IF NOT EXISTS org_id uuid;`,
    (i: number) => `-- the index for the tenant filter\nCREATE INDEX CONCURRENTLY IF NOT EXISTS t${i}_org ON t${i} (org_id);`,
    (i: number) => `-- expect: 0\nSELECT count(*) FROM t${i} WHERE org_id IS NULL AND note <> 'it''s; fine';`,
    (i: number) => `UPDATE t${i} SET org_id = m.org_id FROM legacy_map m WHERE m.id = t${i}.id AND t${i}.org_id IS NULL AND t${i}.id BETWEEN ${i * 1000} AND ${i * 1000 + 999};`,
    (i: number) => `DO $$ BEGIN RAISE NOTICE 'batch ${i}; done'; END $$;`,
    (i: number) => `ALTER TABLE t${i} ADD CONSTRAINT t${i}_org_fk FOREIGN KEY (org_id) REFERENCES orgs (id) NOT VALID;`,
    (i: number) => `/* validated separately: SHARE UPDATE EXCLUSIVE only */ ALTER TABLE t${i} VALIDATE CONSTRAINT t${i}_org_fk;`,
    (i: number) => `-- expect: rows = 0\nSELECT id FROM t${i} t LEFT JOIN orgs o ON o.id = t.org_id WHERE o.id IS NULL LIMIT 10;`,
    (i: number) => (i % 80 === 8 ? `\\d+ t${i}` : `SET lock_timeout = '1s';`),
    (i: number) => `ALTER TABLE t${i} ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;`,
  ];
  return Array.from({ length: statements }, (_, i) => forms[i % forms.length]!(i)).join('\n');
}

const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2; };
const p95 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil(xs.length * 0.95) - 1)]!;
const ms = (x: number) => `${x.toFixed(1)} ms`;

interface Pass { split: number; lenses: number; lint: number; total: number; statements: number; lensCount: number; diagnostics: number }

function pass(model: SqlFileModel, text: string): Pass {
  const t0 = performance.now();
  model.update(text);
  const t1 = performance.now();
  const index = new LineIndex(text);
  const lenses = model.lenses().map((l) => index.position(l.offset));
  const t2 = performance.now();
  const diagnostics = model.diagnostics().map((d) => index.position(d.start));
  const t3 = performance.now();
  return { split: t1 - t0, lenses: t2 - t1, lint: t3 - t2, total: t3 - t0, statements: model.statements.length, lensCount: lenses.length, diagnostics: diagnostics.length };
}

export async function runSqlEditorBench(o: SqlEditorBenchOptions): Promise<string> {
  const loadStarted = performance.now();
  const parser = await loadParser();
  const loadMs = performance.now() - loadStarted;
  const text = syntheticFile(o.statements);
  const log = (m: string) => console.log(`[sql-editor] ${m}`);
  log(`${o.statements} statements, ${(text.length / 1024).toFixed(0)} KB; parser loaded in ${ms(loadMs)}`);

  // Context: what the parser costs on the whole file.
  let t = performance.now();
  parser.scanSync(text);
  const scanMs = performance.now() - t;
  t = performance.now();
  const items = splitWith(parser.scanSync, text);
  const splitMs = performance.now() - t;
  t = performance.now();
  for (const item of items) if (item.kind === 'sql') { try { parser.parseSync(item.text); } catch { /* a syntax error is a result too */ } }
  const perStatementParseMs = performance.now() - t;

  const opens: Pass[] = [];
  for (let r = 0; r < o.rounds; r++) opens.push(pass(new SqlFileModel(parser), text));
  log(`first open: median ${ms(median(opens.map((p) => p.total)))}`);

  // Edits on one open model, as typing does: a character inside a statement, a new statement, a deleted one.
  const model = new SqlFileModel(parser);
  pass(model, text);
  let current = text;
  let seed = 7;
  const random = (n: number) => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed % n; };
  const kinds: Record<string, Pass[]> = { 'type a character in a statement (it no longer parses)': [], 'add a statement (type ";" and a new line)': [], 'delete a statement': [] };
  for (let e = 0; e < o.edits; e++) {
    const statements = model.statements;
    const target = statements[random(statements.length)]!.item;
    const kind = Object.keys(kinds)[e % 3]!;
    if (e % 3 === 0) current = `${current.slice(0, target.start + 1)}x${current.slice(target.start + 1)}`;
    else if (e % 3 === 1) current = `${current.slice(0, target.end)};\nSELECT ${e} AS added${current.slice(target.end)}`;
    else current = `${current.slice(0, target.start)}${current.slice(target.end + 1)}`;
    kinds[kind]!.push(pass(model, current));
  }
  const allEdits = Object.values(kinds).flat().map((p) => p.total);
  log(`edit: median ${ms(median(allEdits))}, p95 ${ms(p95(allEdits))}, worst ${ms(Math.max(...allEdits))}`);

  const first = opens.map((p) => p.total);
  const last = opens.at(-1)!;
  const revision = (() => { try { return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim(); } catch { return 'unknown'; } })();
  const verdict = (value: number) => (value < TARGET_MS ? `met (${ms(value)} < ${TARGET_MS} ms)` : `**not met** (${ms(value)})`);
  const lines = [
    `### SQL editor: CodeLens and lint for ${o.statements.toLocaleString('en-US')} statements (issue 4)`, '',
    `- Date: ${new Date().toISOString()}; ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? 'unknown'}), load ${os.loadavg().map((l) => l.toFixed(1)).join(' / ')} (1/5/15 min); Node ${process.version}; code ${revision}`,
    `- Run: \`npm run bench -- --only sql-editor --statements ${o.statements} --rounds ${o.rounds} --edits ${o.edits}\`; the file: ${(text.length / 1024).toFixed(0)} KB, ${last.statements} statements, ${last.lensCount} CodeLens, ${last.diagnostics} diagnostics (\`bench/sql-editor.ts\` syntheticFile)`,
    `- What is timed: \`SqlFileModel\` (src/engine/sql/file-model.ts) — the split by PostgreSQL's scanner, the CodeLens with their positions, the lint with syntax errors — exactly what the extension computes per file; VS Code's own rendering is not included.`,
    '',
    '| | median | p95 | worst | split (median) | CodeLens (median) | lint (median) |',
    '|---|---|---|---|---|---|---|',
    `| first open (${o.rounds} rounds, fresh model each) | ${ms(median(first))} | ${ms(p95(first))} | ${ms(Math.max(...first))} | ${ms(median(opens.map((p) => p.split)))} | ${ms(median(opens.map((p) => p.lenses)))} | ${ms(median(opens.map((p) => p.lint)))} |`,
    ...Object.entries(kinds).map(([kind, ps]) => {
      const xs = ps.map((p) => p.total);
      return `| edit: ${kind} (${xs.length}) | ${ms(median(xs))} | ${ms(p95(xs))} | ${ms(Math.max(...xs))} | ${ms(median(ps.map((p) => p.split)))} | ${ms(median(ps.map((p) => p.lenses)))} | ${ms(median(ps.map((p) => p.lint)))} |`;
    }),
    '',
    `For context, on the whole file: loading the parser (WASM) ${ms(loadMs)}; libpg-query \`scanSync\` ${ms(scanMs)}; the scanner split ${ms(splitMs)}; \`parseSync\` statement by statement ${ms(perStatementParseMs)}.`,
    '',
    `Target (issue 4): CodeLens and lint under ${TARGET_MS} ms once the parser is loaded — after an edit: ${verdict(p95(allEdits))} (p95); on first open: ${verdict(median(first))} (median).`,
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
      case '--statements': o.statements = value(); break;
      case '--rounds': o.rounds = value(); break;
      case '--edits': o.edits = value(); break;
      case '--no-write': o.write = false; break;
      case '--out': o.out = path.resolve(argv[++i]!); break;
      default: break;
    }
  }
  return o;
}

if (require.main === module) {
  runSqlEditorBench(parseSqlEditorArgs(process.argv.slice(2), path.join(__dirname, '..', 'BENCHMARKS.md'))).catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
