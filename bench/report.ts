// The results as Markdown: printed, and written into .bench/results.md between markers (one block per dataset size
// and server, so a quick --scale 0.1 run never replaces the full-size numbers; the text around them is kept).
import fs from 'node:fs';
import path from 'node:path';
import type { Template } from './dataset';
import type { ActivationResult } from './activation';
import type { BundleSize } from './bundles';
import type { Machine } from './machine';
import type { PreviewTiming } from './preview';
import type { PartitionsResult } from './partitions';
import type { ScenarioResult } from './scenario';
import { describeStatement } from './timeline';
import { renderTargets } from './targets';
import { bundleTable } from './report-activation';
import { machineLines, mbf, median, msf, num, s } from './report-format';

export const TARGETS = { ratio: 1.3, writerWorstMs: 250, previewMs: 2000 };

export interface RunResults {
  readonly label: string;
  readonly scale: number;
  readonly machine: Machine;
  readonly template: Template;
  readonly scenarios: ScenarioResult[];
  readonly preview?: PreviewTiming;
  /** Issue 17 target 6; absent with --no-partitions. */
  readonly partitions?: PartitionsResult;
  readonly bundles?: { built: boolean; buildError?: string; sizes: BundleSize[] };
  /** Extension activation in the real VS Code (issue 5 item 4); absent with --no-activation. */
  readonly activation?: ActivationResult;
  readonly options: string;
}

/** (b)/(a) without the writer: the medians of the repetitions that succeeded (of one engine variant). */
function ratio(
  results: ScenarioResult[],
  variant?: string,
  metric: (r: ScenarioResult) => number | undefined = (r) => r.wallMs,
): number | undefined {
  const values = (rs: ScenarioResult[]) => rs.map(metric).filter((v): v is number => v !== undefined);
  const naive = median(values(results.filter((r) => r.kind === 'naive' && !r.writer && r.ok)));
  const engine = median(
    values(results.filter((r) => r.kind === 'engine' && r.variant === variant && !r.writer && r.ok)),
  );
  return naive && engine ? engine / naive : undefined;
}

const loadRange = (rs: ScenarioResult[]) => {
  const all = rs.flatMap((x) => x.load);
  return all.length ? `${Math.min(...all).toFixed(1)}–${Math.max(...all).toFixed(1)}` : '—';
};
const sizeCell = (x: ScenarioResult) =>
  x.sizes
    ? `${(x.sizes.after.total / x.sizes.before.total).toFixed(2)}× (${mbf(x.sizes.before.total)} → ${mbf(x.sizes.after.total)})`
    : '';

export function renderRun(r: RunResults): string {
  const out: string[] = [];
  const { size } = r.template;
  const ratioValue = ratio(r.scenarios);
  out.push(
    `### ${r.label}: ${num(size.credentials)} credentials, ${num(size.reports)} reports, ${num(size.layouts)} dashboard_layouts (${mbf(r.template.bytes)} database)`,
    '',
  );
  out.push(
    ...machineLines(r.machine),
    `- Run: \`${r.options}\``,
    `- Machine load (1-min average) over the run: ${loadRange(r.scenarios)} on ${r.machine.cpus} CPUs`,
    '',
  );
  out.push(...renderTargets(r.scenarios, r.preview, r.partitions), '');
  out.push(
    "| scenario | outcome | total wall time | migration backend CPU | (b)/(a) no writer, wall (CPU) | writer p99 | writer worst | failed writes | longest lock wait | rows left without an org (writer's) | tables after / before (size) | lock-timeout retries | runner RSS start → peak | machine load (1-min avg, start → end) |",
  );
  out.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const x of r.scenarios) {
    const w = x.writerStats;
    const lock = x.lockWaits[0];
    const rss = `${x.memory.startMb} → ${x.memory.peakMb} MB${x.memory.hwmMb !== undefined ? ` (HWM ${x.memory.hwmMb})` : ''}`;
    const first =
      x.kind === 'engine' &&
      !x.writer &&
      x === r.scenarios.find((y) => y.kind === 'engine' && !y.writer && y.variant === x.variant);
    const wallRatio = first ? ratio(r.scenarios, x.variant) : undefined;
    const cpuRatio = first ? ratio(r.scenarios, x.variant, (y) => y.backendCpuMs) : undefined;
    out.push(
      `| ${x.kind === 'naive' ? '(a) naive bulk' : x.kind === 'idle' ? 'control: no migration' : `(b) engine${x.variant ? ` [${x.variant}]` : ''}`}${x.writer ? ' + writer' : ''}${x.round ? ` #${x.round}` : ''} | ${x.ok ? 'ok' : `**failed**: ${x.error?.slice(0, 140).replace(/\|/g, '/')}`} | ${s(x.wallMs)} | ${x.backendCpuMs !== undefined ? s(x.backendCpuMs) : ''} | ${wallRatio ? `**${wallRatio.toFixed(2)}×**${cpuRatio ? ` (${cpuRatio.toFixed(2)}×)` : ''}${x.round ? ' medians' : ''}` : ''} | ${w ? msf(w.p99Ms) : ''} | ${w ? msf(w.maxMs) : ''} | ${w ? `${w.failed} of ${num(w.ops)}` : ''} | ${lock ? `${msf(lock.waitMs)} (${lock.app})` : 'none seen'} | ${num(x.counts.withoutOrg)} (${num(x.counts.writerRowsWithoutOrg)} of ${num(x.counts.writerRows)}) | ${sizeCell(x)} | ${x.retries ?? ''} | ${rss} | ${x.load.map((l) => l.toFixed(1)).join(' → ')} |`,
    );
  }
  out.push(
    '',
    `Targets (issue 5): (b)/(a) ≤ ${TARGETS.ratio}× without writer; writer worst ≤ ${TARGETS.writerWorstMs} ms; 0 failed writes; 0 rows without an org; runner memory flat.`,
  );
  const verdict = (name: string, ok: boolean | undefined, detail: string) =>
    `- ${ok === undefined ? '…' : ok ? 'met' : '**not met**'}: ${name} — ${detail}`;
  const engines = r.scenarios.filter((x) => x.kind === 'engine' && !x.variant);
  const withWriter = engines.filter((x) => x.writerStats);
  out.push(
    `Verdicts for the engine's generated script${r.scenarios.some((x) => x.variant) ? ' (the [variants] are prototypes: see their rows)' : ''}:`,
  );
  out.push(
    verdict(
      'time',
      ratioValue === undefined ? undefined : ratioValue <= TARGETS.ratio,
      ratioValue ? `${ratioValue.toFixed(2)}×` : 'not measured',
    ),
  );
  if (withWriter.length) {
    const worst = Math.max(...withWriter.map((x) => x.writerStats!.maxMs));
    const failedWrites = withWriter.reduce((n, x) => n + x.writerStats!.failed, 0);
    out.push(verdict('writer worst latency', worst <= TARGETS.writerWorstMs, msf(worst)));
    out.push(verdict('failed writes', failedWrites === 0, String(failedWrites)));
  }
  if (engines.length)
    out.push(
      verdict(
        'rows without an org',
        engines.every((x) => x.counts.withoutOrg === 0),
        engines.map((x) => `${x.name}: ${x.counts.withoutOrg}`).join(', '),
      ),
    );
  if (engines.length)
    out.push(
      verdict(
        'engine completed',
        engines.every((x) => x.ok),
        engines
          .filter((x) => !x.ok)
          .map((x) => `${x.name}: ${x.error}`)
          .join('; ') || 'every run',
      ),
    );
  out.push('');

  for (const x of r.scenarios) {
    const total = x.phases.reduce((a, p) => a + p.ms, 0);
    out.push(
      `<details><summary>${x.name}: time by phase${x.kind === 'engine' ? ', backfill batches' : ''}, longest statements${x.writerStats ? ", the writer's worst ops" : ''}</summary>`,
      '',
    );
    if (x.steps?.length)
      out.push(
        `Steps of the run: ${x.steps.map((st) => `${st.step} ${s(st.ms)}${st.status === 'done' ? '' : ` (${st.status})`}`).join(', ')}.`,
        '',
      );
    out.push('| phase | time | share | statements |', '|---|---|---|---|');
    if (x.beforeScriptMs !== undefined)
      out.push(
        `| (engine, before the script: model, mapping-gap refusal checks, run record) | ${s(x.beforeScriptMs)} | ${((100 * x.beforeScriptMs) / x.wallMs).toFixed(0)}% | |`,
      );
    for (const p of x.phases)
      out.push(`| ${p.phase} | ${s(p.ms)} | ${((100 * p.ms) / x.wallMs).toFixed(0)}% | ${p.statements} |`);
    out.push(
      `| (rest: round trips, audit log, between statements) | ${s(x.wallMs - total - (x.beforeScriptMs ?? 0))} | | |`,
      '',
    );
    if (x.batches?.length) {
      out.push(
        '| backfill of | batches | batch p50 | batch p99 | batch max | batches over 250 ms |',
        '|---|---|---|---|---|---|',
      );
      for (const b of x.batches)
        out.push(
          `| ${b.table} | ${num(b.batches)} | ${msf(b.p50Ms)} | ${msf(b.p99Ms)} | ${msf(b.maxMs)} | ${b.over250} |`,
        );
      out.push('');
    }
    out.push('| longest statements | phase | time |', '|---|---|---|');
    for (const st of [...x.statements].sort((a, b) => b.durationMs - a.durationMs).slice(0, 12))
      out.push(`| \`${describeStatement(st.sql)}\` | ${st.phase} | ${s(st.durationMs)} |`);
    out.push('');
    if (x.writerStats) {
      out.push(
        "| writer's worst ops | of which queued for a connection | due at | while the migration ran |",
        '|---|---|---|---|',
      );
      for (const o of x.writerStats.worst)
        out.push(`| ${msf(o.latencyMs)} | ${msf(o.queuedMs)} | +${o.atS} s | \`${o.during}\` |`);
      if (x.writerStats.errors.length)
        out.push('', `Writer errors: ${x.writerStats.errors.map((e) => `${e.count} × ${e.message}`).join('; ')}`);
      out.push('');
    }
    out.push(
      `Lock monitor: ${num(x.monitor.samples)} looks at pg_locks (every 50 ms; slowest look ${msf(x.monitor.maxSampleMs)})${x.monitor.errors ? `, ${x.monitor.errors} failed (${x.monitor.lastError.replace(/\|/g, '/').slice(0, 120)})` : ''}.`,
      '',
    );
    if (x.lockWaits.length) {
      out.push('| longest lock wait of | wait | lock | waiting query | blocked by |', '|---|---|---|---|---|');
      for (const l of x.lockWaits)
        out.push(
          `| ${l.app} | ${msf(l.waitMs)} | ${l.lock} | \`${l.query.replace(/\|/g, '/').slice(0, 90)}\` | ${l.blockers.replace(/\|/g, '/').slice(0, 120)} |`,
        );
      out.push('');
    }
    out.push('</details>', '');
  }

  if (r.preview) {
    const p = r.preview;
    if (p.timedOut)
      out.push(
        `Preview (\`Migration.plan()\`), target ≤ ${TARGETS.previewMs / 1000} s: **not met — ${p.timedOut.replace(/\|/g, '/')}** (connect ${msf(p.connectMs)}, model ${msf(p.modelMs)}).`,
        '',
      );
    else
      out.push(
        `Preview (\`Migration.plan()\`: the plan of ${p.statements} statements and the mapping gaps), target ≤ ${TARGETS.previewMs / 1000} s for the exact answer: **${s(p.totalMs)}** ${p.totalMs <= TARGETS.previewMs ? '(met)' : '(**not met**)'} — the first answer (estimates, ${p.pending} exact checks pending) at ${msf(p.firstMs)}: connect ${msf(p.connectMs)}, model (introspection) ${msf(p.modelMs)}; then the exact mapping gaps ${s(p.gapsMs)}.`,
        '',
      );
  }
  if (r.bundles) out.push(...bundleTable(r.bundles, r.activation));
  return out.join('\n');
}

/** Replaces the block between `<!-- key -->` and `<!-- /key -->` in the results file, or appends it. */
export function writeBlock(file: string, key: string, body: string): void {
  const start = `<!-- ${key} -->`;
  const end = `<!-- /${key} -->`;
  let text = fs.existsSync(file)
    ? fs.readFileSync(file, 'utf8')
    : '# Benchmarks\n\nWritten by `npm run bench` (see bench/README.md); the text outside the generated blocks is kept.\n\n';
  const block = `${start}\n${body.trimEnd()}\n${end}`;
  const i = text.indexOf(start);
  const j = text.indexOf(end);
  if (i !== -1 && j > i) text = text.slice(0, i) + block + text.slice(j + end.length);
  else text = `${text.trimEnd()}\n\n${block}\n`;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
}
