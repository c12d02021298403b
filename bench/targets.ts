// Issue 17's targets in one table, from one bench run: target, measured, the naive script's figure beside it, and
// the machine's load while each was measured (a loaded machine's figure is not a target's proof; the ratios between
// scripts run one after the other in the same run are what the load moves least).
import type { PreviewTiming } from './preview';
import type { ScenarioResult } from './scenario';
import { partitionMedians, type PartitionsResult } from './partitions';
import { median } from './report-format';

export const ISSUE_17 = {
  runRatio: 1.05,
  migrateRatio: 1.0,
  writerWorstMs: 100,
  p99VsControl: 2,
  sizeRatio: 1.3,
  previewMs: 500,
  partitionedRatio: 1.0,
};

const s = (ms?: number) => (ms === undefined ? '—' : `${(ms / 1000).toFixed(1)} s`);
const ms = (v?: number) => (v === undefined ? '—' : `${Math.round(v)} ms`);
const x = (v?: number) => (v === undefined ? '—' : `${v.toFixed(2)}×`);
const loads = (rs: ScenarioResult[]) =>
  rs.length ? rs.map((r) => r.load.map((l) => l.toFixed(1)).join('→')).join(', ') : '—';
const verdict = (ok?: boolean) => (ok === undefined ? 'not measured' : ok ? 'met' : '**not met**');

const lockWaitText = (v?: number) => (v === 0 ? 'none seen (pg_locks sampled every 50 ms)' : ms(v));

type Pick = (r: ScenarioResult) => boolean;
const isNaive: Pick = (r) => r.kind === 'naive';
const isRun: Pick = (r) => r.kind === 'engine' && r.variant === 'run';
const isMigrate: Pick = (r) => r.kind === 'engine' && (r.variant === undefined || r.variant === 'migrate');

function of(rs: ScenarioResult[], pick: Pick, writer: boolean): ScenarioResult[] {
  return rs.filter((r) => pick(r) && r.writer === writer);
}

function medianOf(rs: ScenarioResult[], metric: (r: ScenarioResult) => number | undefined): number | undefined {
  return median(
    rs
      .filter((r) => r.ok)
      .map(metric)
      .filter((v): v is number => v !== undefined),
  );
}

const sizeRatio = (r: ScenarioResult) => r.sizes.after.total / r.sizes.before.total;

export function renderTargets(
  scenarios: ScenarioResult[],
  preview?: PreviewTiming,
  partitions?: PartitionsResult,
): string[] {
  const naive = of(scenarios, isNaive, false);
  const run = of(scenarios, isRun, false);
  const migrate = of(scenarios, isMigrate, false);
  const naiveWall = medianOf(naive, (r) => r.wallMs);
  const naiveCpu = medianOf(naive, (r) => r.backendCpuMs);
  const ratio = (rs: ScenarioResult[], metric: (r: ScenarioResult) => number | undefined, base?: number) => {
    const v = medianOf(rs, metric);
    return v !== undefined && base ? v / base : undefined;
  };
  const out = [
    '| target (issue 17) | measured (ours) | naive script | verdict | machine load (1-min, start→end of each run) |',
    '|---|---|---|---|---|',
  ];
  const timeRow = (label: string, rs: ScenarioResult[], target: number) => {
    const wall = ratio(rs, (r) => r.wallMs, naiveWall);
    const cpu = ratio(rs, (r) => r.backendCpuMs, naiveCpu);
    out.push(
      `| ${label} ≤ ${target.toFixed(2)}× the naive script | ${rs.length ? `**${x(wall)}** wall (${s(medianOf(rs, (r) => r.wallMs))}), ${x(cpu)} server CPU${rs.some((r) => !r.ok) ? '; **failed**' : ''}` : 'not run'} | ${s(naiveWall)} | ${verdict(wall === undefined ? undefined : wall <= target)} | ${loads([...rs, ...naive])} |`,
    );
  };
  timeRow('whole `tenant-migrate run`', run, ISSUE_17.runRatio);
  timeRow('`migrate` alone', migrate, ISSUE_17.migrateRatio);

  const ours = [...of(scenarios, isMigrate, true), ...of(scenarios, isRun, true)];
  const naiveW = of(scenarios, isNaive, true);
  const control = scenarios.filter((r) => r.kind === 'idle' && r.writer);
  const worst = (rs: ScenarioResult[]) =>
    rs.length ? Math.max(...rs.map((r) => r.writerStats?.maxMs ?? 0)) : undefined;
  const p99 = (rs: ScenarioResult[]) => (rs.length ? Math.max(...rs.map((r) => r.writerStats?.p99Ms ?? 0)) : undefined);
  const failed = (rs: ScenarioResult[]) => rs.reduce((n, r) => n + (r.writerStats?.failed ?? 0), 0);
  const ops = (rs: ScenarioResult[]) => rs.reduce((n, r) => n + (r.writerStats?.ops ?? 0), 0);
  const orphans = (rs: ScenarioResult[]) => rs.reduce((n, r) => n + r.counts.withoutOrg, 0);
  const controlP99 = p99(control);
  const ourWorst = worst(ours);
  const ourP99 = p99(ours);
  out.push(
    `| the live writer's worst wait ≤ ${ISSUE_17.writerWorstMs} ms | **${ms(ourWorst)}**${ours.some((r) => !r.ok) ? '; **the run failed**' : ''} | ${ms(worst(naiveW))}${
      naiveW.some((r) => !r.ok)
        ? ` (it **failed**: ${naiveW
            .find((r) => !r.ok)!
            .error?.slice(0, 60)
            .replace(/\|/g, '/')}…)`
        : ''
    } | ${verdict(ourWorst === undefined ? undefined : ourWorst <= ISSUE_17.writerWorstMs)} | ${loads([...ours, ...naiveW])} |`,
  );
  const writerLockWait = (rs: ScenarioResult[]) =>
    rs.length
      ? Math.max(0, ...rs.flatMap((r) => r.lockWaits.filter((w) => w.app === 'bench-writer').map((w) => w.waitMs)))
      : undefined;
  out.push(
    `| of it, the writer's longest wait for a lock (the lock monitor: what the migration's locks cost, not the machine) | **${lockWaitText(writerLockWait(ours))}** | ${lockWaitText(writerLockWait(naiveW))} | ${verdict(ours.length ? (writerLockWait(ours) ?? 0) <= ISSUE_17.writerWorstMs : undefined)} | |`,
  );
  out.push(
    `| the writer's p99 ≤ ${ISSUE_17.p99VsControl}× the control (writer alone: ${ms(controlP99)} p99, ${ms(worst(control))} worst) | **${ms(ourP99)}** (${ourP99 !== undefined && controlP99 ? x(ourP99 / controlP99) : '—'}) | ${ms(p99(naiveW))} | ${verdict(ourP99 === undefined || !controlP99 ? undefined : ourP99 <= ISSUE_17.p99VsControl * controlP99)} | ${loads(control)} |`,
  );
  out.push(
    `| 0 failed writes, 0 rows without an org | **${failed(ours)}** of ${ops(ours).toLocaleString('en-US')} failed, **${orphans(ours)}** without an org | ${failed(naiveW)} failed, ${orphans(naiveW).toLocaleString('en-US')} without an org | ${verdict(ours.length ? failed(ours) === 0 && orphans(ours) === 0 : undefined)} | |`,
  );
  out.push(
    `| lock-timeout retries, shown (with the writer) | **${ours.reduce((n, r) => n + (r.retries ?? 0), 0)}** retries | — | shown | |`,
  );
  // Without the writer: its new rows would count as growth.
  const oursAll = [...run, ...migrate].filter((r) => r.ok);
  const naiveAll = naive.filter((r) => r.ok);
  const ourSize = oursAll.length ? Math.max(...oursAll.map(sizeRatio)) : undefined;
  const sized = (rs: ScenarioResult[]) =>
    `${(rs[0]!.sizes.before.total / 1048576).toFixed(1)} → ${(Math.max(...rs.map((r) => r.sizes.after.total)) / 1048576).toFixed(1)} MB`;
  out.push(
    `| migrated tables ≤ ${ISSUE_17.sizeRatio}× their size before (new column and index included; runs without the writer) | **${ourSize === undefined ? '—' : ourSize.toFixed(3)}×** (${oursAll.length ? sized(oursAll) : '—'}) | ${naiveAll.length ? `${Math.max(...naiveAll.map(sizeRatio)).toFixed(3)}× (${sized(naiveAll)})` : '—'} | ${verdict(ourSize === undefined ? undefined : ourSize <= ISSUE_17.sizeRatio)} | |`,
  );
  if (preview) {
    out.push(
      `| preview: first answer ≤ ${ISSUE_17.previewMs} ms | ${preview.timedOut ? `**did not finish**` : `**${ms(preview.firstMs)}** (\`Migration.plan({ onFirstAnswer })\`; the exact checks ${ms(preview.totalMs)})`} | — | ${verdict(preview.timedOut ? false : preview.firstMs <= ISSUE_17.previewMs)} | |`,
    );
  }
  if (partitions) out.push(partitionRow(partitions));
  return out;
}

/** Target 6: migrate() of the rows in N partitions over the same rows in one table (medians of the alternated runs). */
function partitionRow(p: PartitionsResult): string {
  const [one, parts] = [partitionMedians(p, false), partitionMedians(p, true)];
  const over = (a?: number, b?: number) => (a !== undefined && b ? a / b : undefined);
  const wall = over(parts.migrateMs, one.migrateMs);
  const failed = one.failed + parts.failed;
  const size = parts.sizeRatio === undefined ? '—' : `${parts.sizeRatio.toFixed(2)}×`;
  return (
    `| ${p.rows.toLocaleString('en-US')} rows in ${p.partitions} partitions migrate ≤ ${ISSUE_17.partitionedRatio.toFixed(2)}× the same rows in one table (\`migrate\`, medians of ${parts.runs} alternated runs each) ` +
    `| **${x(wall)}** wall (${s(parts.migrateMs)} vs ${s(one.migrateMs)}), ${x(over(parts.cpuMs, one.cpuMs))} server CPU; whole run (backup, validate) ${x(over(parts.runMs, one.runMs))}; the partitioned table ${size} its size${failed ? `; **${failed} failed**` : ''} ` +
    `| — | ${verdict(wall === undefined ? undefined : failed === 0 && wall <= ISSUE_17.partitionedRatio)} | ${p.runs.map((r) => r.load.map((l) => l.toFixed(1)).join('→')).join(', ')} |`
  );
}
