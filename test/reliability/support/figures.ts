// The reliability suite's figures: every test feeds what it measured (fault points, rows lost, probes, secrets
// searched…) into one store, test-results/reliability/figures.json, from which scripts/reliability-report.ts renders
// RELIABILITY.md. The store is grouped by spec file: running one file replaces that file's figures and keeps the
// others, so `npx mocha test/reliability/x.test.ts` refreshes x only.
import fs from 'node:fs';
import path from 'node:path';

/** The repository: found upwards from here (this file also runs bundled into out/vscode-test/, inside VS Code). */
export const ROOT = ((): string => {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'test', 'reliability')))
      return dir;
    if (path.dirname(dir) === dir) return path.join(__dirname, '..', '..', '..');
  }
})();

/** A spec file's key in the store: its path in the repository (an in-host suite bundled as out/vscode-test/x.test.js is test/vscode/suite/x.test.ts). */
function keyOf(file: string): string {
  const relative = path.relative(ROOT, file).split(path.sep).join('/');
  const bundled = /^out\/vscode-test\/(.+)\.js$/.exec(relative);
  return bundled ? `test/vscode/suite/${bundled[1]}.ts` : relative;
}
export const FIGURES_FILE = path.join(ROOT, 'test-results', 'reliability', 'figures.json');

export interface FaultFigure {
  readonly kind: 'fault';
  readonly point: string;
  readonly step: string;
  /** 'between statements', 'mid-backfill', 'step start', 'server restart', 'statement timeout'. */
  readonly where: string;
  readonly fault: string;
  readonly interrupted: boolean;
  readonly converged: boolean;
  readonly rowsLost: number;
  readonly backupsIntact: boolean;
}
export interface RollbackFigure {
  readonly kind: 'rollback';
  readonly case: string;
  readonly exact: boolean;
}
export interface BadInputFigure {
  readonly kind: 'bad-input';
  readonly case: string;
  readonly clearError: boolean;
  readonly nothingChanged: boolean;
}
export interface IsolationFigure {
  readonly kind: 'isolation';
  readonly context: string;
  readonly variant: string;
  /** Probes run by this test as the application roles, with the data checked. */
  readonly probes: number;
  readonly failures: number;
  /** The engine's own probes (verify-isolation) for the same database, and how many failed or disagreed with ours. */
  readonly engineProbes: number;
  readonly engineFailures: number;
  readonly deniedAsError: number;
  readonly deniedAsNoRows: number;
}
export interface SecretsFigure {
  readonly kind: 'secrets';
  readonly via: string;
  readonly commands: number;
  readonly files: number;
  readonly fileBytes: number;
  readonly databaseRows: number;
  readonly databaseBytes: number;
  readonly outputBytes: number;
  readonly hits: number;
}
/** The plan preview webview's HTML as VS Code holds it: scripts, those without the CSP's nonce, remote sources. */
export interface CspFigure {
  readonly kind: 'csp';
  readonly scripts: number;
  readonly withoutNonce: number;
  readonly remoteSources: number;
  readonly ok: boolean;
}
export interface ConcurrencyFigure {
  readonly kind: 'concurrency';
  readonly case: string;
  readonly ok: boolean;
}
export interface NoteFigure {
  readonly kind: 'note';
  readonly key: string;
  readonly value: string | number;
}

export type Figure =
  | FaultFigure
  | RollbackFigure
  | BadInputFigure
  | IsolationFigure
  | SecretsFigure
  | ConcurrencyFigure
  | CspFigure
  | NoteFigure;

export interface TestOutcome {
  readonly title: string;
  readonly state: string;
  readonly durationMs: number;
}
export interface FileFigures {
  ranAt: string;
  durationMs: number;
  tests: TestOutcome[];
  figures: Figure[];
}
export interface FigureStore {
  version: 1;
  files: Record<string, FileFigures>;
}

const started = new Map<string, number>();
const thisRun = new Map<string, FileFigures>();
let hooked = false;

function entry(file: string): FileFigures {
  const key = keyOf(file);
  let e = thisRun.get(key);
  if (!e) {
    e = { ranAt: new Date().toISOString(), durationMs: 0, tests: [], figures: [] };
    thisRun.set(key, e);
    started.set(key, Date.now());
  }
  return e;
}

export function readStore(file = FIGURES_FILE): FigureStore {
  try {
    const store = JSON.parse(fs.readFileSync(file, 'utf8')) as FigureStore;
    if (store.version === 1 && store.files) return store;
  } catch {
    /* no store yet, or an unreadable one: start afresh */
  }
  return { version: 1, files: {} };
}

function flush(): void {
  const store = readStore();
  for (const [key, e] of thisRun)
    store.files[key] = { ...e, durationMs: Date.now() - (started.get(key) ?? Date.now()) };
  fs.mkdirSync(path.dirname(FIGURES_FILE), { recursive: true });
  fs.writeFileSync(FIGURES_FILE, `${JSON.stringify(store, null, 1)}\n`);
}

/**
 * The figures of one spec file (pass `__filename`). The first call registers root hooks: every test's outcome is
 * recorded (a failed test shows in the report), and the store is written when the run ends.
 */
export function figures(file: string): { record(figure: Figure): void } {
  entry(file);
  if (!hooked) {
    hooked = true;
    // Hooks registered outside any describe() belong to mocha's root suite: they see every test of every file.
    afterEach(function () {
      const test = this.currentTest;
      if (!test?.file) return;
      const key = keyOf(test.file);
      if (!thisRun.has(key)) return;
      thisRun
        .get(key)!
        .tests.push({ title: test.fullTitle(), state: test.state ?? 'unknown', durationMs: test.duration ?? 0 });
    });
    after(function () {
      flush();
    });
  }
  return {
    record: (figure) => {
      entry(file).figures.push(figure);
    },
  };
}

/** A small seeded PRNG (mulberry32): the same seed chooses the same fault points. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** RELIABILITY_SEED when set, else a fresh seed; printed so that a failure can be reproduced. */
export function suiteSeed(): number {
  const fromEnv = process.env.RELIABILITY_SEED;
  if (fromEnv !== undefined && fromEnv !== '') {
    const n = Number(fromEnv);
    if (!Number.isInteger(n) || n < 0)
      throw new Error(`RELIABILITY_SEED must be a non-negative integer, not "${fromEnv}"`);
    return n;
  }
  return Math.floor(Math.random() * 2 ** 31);
}
