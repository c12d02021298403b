// How the time grows with the dataset size, as Markdown: one row per scale.
import type { Template } from './dataset';
import type { Machine } from './machine';
import { machineLines, mbf, num, s } from './report-format';

export interface GrowthPoint {
  readonly scale: number;
  readonly template: Template;
  readonly runs: {
    name: string;
    ok: boolean;
    wallMs: number;
    cpuMs?: number;
    backfillMs?: number;
    rssPeakMb: number;
    load: [number, number];
  }[];
}

export function renderGrowth(points: GrowthPoint[], machine: Machine, options: string): string {
  const out = [`### How the time grows (no writer)`, '', ...machineLines(machine), `- Run: \`${options}\``, ''];
  const names = [...new Set(points.flatMap((p) => p.runs.map((r) => r.name)))];
  const naiveName = names.find((n) => n.startsWith('naive'));
  out.push(
    `| credentials | reports | layouts | database | ${names.map((n) => `${n}: wall (backend CPU)`).join(' | ')} | ${names
      .filter((n) => n !== naiveName)
      .map((n) => `${n} / naive, wall (CPU)`)
      .join(' | ')} | backfill rows/s (pgroll publishes 9–53k) | runner RSS peak | load |`,
  );
  out.push(`|${'---|'.repeat(4 + names.length + names.filter((n) => n !== naiveName).length + 3)}`);
  for (const p of points) {
    const { size } = p.template;
    const by = (n: string) => p.runs.find((r) => r.name === n);
    const naive = naiveName ? by(naiveName) : undefined;
    const cells = names.map((n) => {
      const r = by(n);
      return r ? `${s(r.wallMs)}${r.cpuMs !== undefined ? ` (${s(r.cpuMs)})` : ''}${r.ok ? '' : ' **failed**'}` : '—';
    });
    const ratios = names
      .filter((n) => n !== naiveName)
      .map((n) => {
        const r = by(n);
        return r && naive && r.ok && naive.ok
          ? `${(r.wallMs / naive.wallMs).toFixed(2)}×${r.cpuMs && naive.cpuMs ? ` (${(r.cpuMs / naive.cpuMs).toFixed(2)}×)` : ''}`
          : '—';
      });
    const backfilled = p.runs.find((r) => r.backfillMs);
    const rate = backfilled
      ? `${num(Math.round((size.credentials + size.reports + size.layouts) / (backfilled.backfillMs! / 1000)))} (${backfilled.name})`
      : '—';
    out.push(
      `| ${num(size.credentials)} | ${num(size.reports)} | ${num(size.layouts)} | ${mbf(p.template.bytes)} | ${cells.join(' | ')} | ${ratios.join(' | ')} | ${rate} | ${Math.max(...p.runs.map((r) => r.rssPeakMb))} MB | ${Math.max(...p.runs.flatMap((r) => r.load)).toFixed(1)} |`,
    );
  }
  return out.join('\n') + '\n';
}
