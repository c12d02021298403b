// The import graph of src/ (and webview/), from the source itself: `npx tsx scripts/import-graph.ts [--from FILE] [--cycles]`.
// Prints one line per module: its relative imports (type-only ones marked with a `type:` prefix). --from FILE prints
// what FILE reaches at run time (type imports excluded: they are erased); --cycles prints the run-time import cycles.
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.join(__dirname, '..');
const IMPORT = /^\s*(import|export)\s+(type\s+)?(?:[^'"]*?\s+from\s+)?['"](\.[^'"]+)['"]/gm;

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const file = path.join(dir, e.name);
    return e.isDirectory() ? sources(file) : e.name.endsWith('.ts') ? [file] : [];
  });
}

function resolve(from: string, spec: string): string | undefined {
  const base = path.resolve(path.dirname(from), spec);
  return [`${base}.ts`, path.join(base, 'index.ts'), base].find((f) => fs.existsSync(f) && fs.statSync(f).isFile());
}

const rel = (f: string) => path.relative(ROOT, f);
const graph = new Map<string, { to: string; typeOnly: boolean }[]>();
for (const file of ['src', 'webview'].flatMap((d) =>
  fs.existsSync(path.join(ROOT, d)) ? sources(path.join(ROOT, d)) : [],
)) {
  const edges = [...fs.readFileSync(file, 'utf8').matchAll(IMPORT)].flatMap((m) => {
    const to = resolve(file, m[3]!);
    return to ? [{ to: rel(to), typeOnly: !!m[2] }] : [];
  });
  graph.set(rel(file), edges);
}

const runtime = (file: string) => (graph.get(file) ?? []).filter((e) => !e.typeOnly).map((e) => e.to);
const args = process.argv.slice(2);
const from = args.indexOf('--from');
if (from >= 0) {
  const seen = new Set<string>();
  const visit = (f: string) => {
    if (seen.has(f)) return;
    seen.add(f);
    runtime(f).forEach(visit);
  };
  visit(args[from + 1]!);
  console.log([...seen].sort().join('\n'));
} else if (args.includes('--cycles')) {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (f: string) => {
    if (state.get(f) === 'done') return;
    if (state.get(f) === 'open') {
      console.log(`cycle: ${[...stack.slice(stack.indexOf(f)), f].join(' → ')}`);
      return;
    }
    state.set(f, 'open');
    stack.push(f);
    runtime(f).forEach(visit);
    stack.pop();
    state.set(f, 'done');
  };
  [...graph.keys()].forEach(visit);
} else {
  for (const [file, edges] of [...graph].sort(([a], [b]) => a.localeCompare(b))) {
    console.log(`${file} → ${edges.map((e) => `${e.typeOnly ? 'type:' : ''}${e.to}`).join(', ') || '(none)'}`);
  }
}
