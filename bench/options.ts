// npm run bench's options: the command line (its usage is the header of bench/run.ts, which --help prints), the
// scenarios it names and the engine each runs.
import fs from 'node:fs';
import path from 'node:path';
import type { PgMajor } from '../test/support/embedded-server';
import type { EngineEntry } from './engine';
import type { Kind } from './scenario';

export interface Options {
  scale: number;
  pg: PgMajor;
  scenarios: { kind: Kind; writer: boolean; variant?: string }[];
  scenariosGiven: boolean;
  repeat: number;
  idleSeconds: number;
  rate: number;
  batchSize?: number;
  lockTimeoutMs?: number;
  script?: string;
  entry: EngineEntry;
  previewTimeoutMs: number;
  beforeScriptTimeoutMs: number;
  growth?: number[];
  settings: Record<string, string>;
  databaseUrl?: string;
  keep: boolean;
  preview: boolean;
  bundles: boolean;
  /** Issue 17 target 6: the same rows in one table and in 12 partitions (3M rows at scale 1), migrated alternately. */
  partitions: boolean;
  partitionRounds: number;
  /** Launches of the real VS Code for the activation time (0: not measured). */
  activationRuns: number;
  /** `--only activation`: the extension's budgets alone, no database. */
  only?: 'activation';
  write: boolean;
  out: string;
  label?: string;
}

const ROOT = path.join(__dirname, '..');
export const WORK = path.join(ROOT, '.bench');

export function parseArgs(argv: string[]): Options {
  const o: Options = {
    scale: Number(process.env.BENCH_SCALE ?? 1),
    pg: Number(process.env.BENCH_PG_MAJOR ?? 15) as PgMajor,
    scenarios: ['naive', 'engine:run', 'engine', 'naive+writer', 'engine+writer', 'idle+writer'].map(scenarioOf),
    scenariosGiven: false,
    rate: 50,
    settings: {},
    repeat: 1,
    idleSeconds: 60,
    entry: 'migrate',
    previewTimeoutMs: 120_000,
    beforeScriptTimeoutMs: 600_000,
    databaseUrl: process.env.BENCH_DATABASE_URL,
    keep: false,
    preview: true,
    bundles: true,
    partitions: true,
    partitionRounds: 2,
    activationRuns: 10,
    write: true,
    out: path.join(WORK, 'results.md'),
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--scale':
        o.scale = Number(value());
        break;
      case '--pg':
        o.pg = Number(value()) as PgMajor;
        break;
      case '--scenarios':
        o.scenarios = value().split(',').map(scenarioOf);
        o.scenariosGiven = true;
        break;
      case '--repeat':
        o.repeat = Math.max(1, Number(value()));
        break;
      case '--idle-seconds':
        o.idleSeconds = Number(value());
        break;
      case '--rate':
        o.rate = Number(value());
        break;
      case '--batch-size':
        o.batchSize = Number(value());
        break;
      case '--lock-timeout':
        o.lockTimeoutMs = Number(value());
        break;
      case '--script':
        o.script = path.resolve(value());
        break;
      case '--engine-entry': {
        const v = value();
        if (v !== 'migrate' && v !== 'run' && v !== 'script')
          throw new Error('--engine-entry is migrate, run or script');
        o.entry = v;
        break;
      }
      case '--preview-timeout':
        o.previewTimeoutMs = 1000 * Number(value());
        break;
      case '--before-script-timeout':
        o.beforeScriptTimeoutMs = 1000 * Number(value());
        break;
      case '--growth':
        o.growth = value().split(',').map(Number);
        break;
      case '--pg-setting': {
        const [k, ...v] = value().split('=');
        o.settings[k!] = v.join('=');
        break;
      }
      case '--database-url':
        o.databaseUrl = value();
        break;
      case '--keep':
        o.keep = true;
        break;
      case '--no-preview':
        o.preview = false;
        break;
      case '--no-bundles':
        o.bundles = false;
        break;
      case '--no-partitions':
        o.partitions = false;
        break;
      case '--partition-rounds':
        o.partitionRounds = Math.max(1, Number(value()));
        break;
      case '--activation-runs':
        o.activationRuns = Math.max(1, Number(value()));
        break;
      case '--no-activation':
        o.activationRuns = 0;
        break;
      case '--only': {
        const v = value();
        if (v !== 'activation') throw new Error('--only takes activation, sql-editor or lint');
        o.only = v;
        break;
      }
      case '--no-write':
        o.write = false;
        break;
      case '--out':
        o.out = path.resolve(value());
        break;
      case '--label':
        o.label = value();
        break;
      case '--help':
      case '-h':
        console.log(
          fs
            .readFileSync(path.join(__dirname, 'run.ts'), 'utf8')
            .split('\n')
            .slice(2, 9)
            .map((l) => l.replace(/^\/\/ ?/, ''))
            .join('\n'),
        );
        process.exit(0);
        break;
      default:
        throw new Error(`Unknown option ${flag} (see --help)`);
    }
  }
  if (!(o.scale > 0)) throw new Error('--scale must be a positive number');
  if (o.pg !== 15 && o.pg !== 17) throw new Error('--pg must be 15 or 17');
  return o;
}

/**
 * naive, engine, idle (each optionally +writer); engine:NAME runs the script .bench/NAME.sql (or the path NAME) through
 * the engine's runner; engine:migrate runs Migration.migrate() and engine:run the whole runAll() (tenant-migrate run), whatever --engine-entry says.
 */
export function scenarioOf(name: string): { kind: Kind; writer: boolean; variant?: string } {
  const [head, extra] = name.trim().split('+');
  const [kind, variant] = head!.split(':');
  if (
    (kind !== 'naive' && kind !== 'engine' && kind !== 'idle') ||
    (extra !== undefined && extra !== 'writer') ||
    (variant && kind !== 'engine')
  ) {
    throw new Error(
      `Unknown scenario ${name}: naive, engine, engine:NAME (the script .bench/NAME.sql), idle (the writer alone, a control), each optionally +writer`,
    );
  }
  return { kind, writer: extra === 'writer', variant };
}

export function variantScript(variant: string): string | undefined {
  if (variant === 'migrate' || variant === 'run') return undefined;
  const file = fs.existsSync(variant) ? path.resolve(variant) : path.join(WORK, `${variant}.sql`);
  if (!fs.existsSync(file)) throw new Error(`No script for the variant ${variant}: ${file}`);
  return file;
}

function engineOptions(o: Options) {
  return {
    batchSize: o.batchSize,
    lockTimeoutMs: o.lockTimeoutMs,
    scriptFile: o.script,
    entry: o.entry,
    beforeScriptTimeoutMs: o.beforeScriptTimeoutMs,
  };
}

export function engineFor(o: Options, variant?: string) {
  if (variant === 'migrate' || variant === 'run')
    return { ...engineOptions(o), entry: variant as EngineEntry, scriptFile: undefined };
  return variant
    ? { ...engineOptions(o), entry: 'script' as const, scriptFile: variantScript(variant) }
    : engineOptions(o);
}

export function optionsLine(o: Options, scale: number): string {
  return [
    'npm run bench --',
    `--scale ${scale}`,
    `--pg ${o.pg}`,
    `--rate ${o.rate}`,
    o.repeat > 1 ? `--repeat ${o.repeat}` : '',
    o.batchSize ? `--batch-size ${o.batchSize}` : '',
    o.lockTimeoutMs ? `--lock-timeout ${o.lockTimeoutMs}` : '',
    o.script ? `--script ${path.relative(ROOT, o.script)}` : '',
    o.entry !== 'migrate' ? `--engine-entry ${o.entry}` : '',
    o.partitions ? (o.partitionRounds !== 2 ? `--partition-rounds ${o.partitionRounds}` : '') : '--no-partitions',
    ...Object.entries(o.settings).map(([k, v]) => `--pg-setting ${k}=${v}`),
  ]
    .filter(Boolean)
    .join(' ');
}
