// The extension's budgets as Markdown: activation in the real VS Code per launch, and the sizes of the bundles.
import { ACTIVATION_BUDGET_MS, type ActivationResult } from './activation';
import type { Machine } from './machine';
import { mbf } from './report-format';
import type { RunResults } from './report';

const msd = (ms?: number) => (ms === undefined ? '—' : `${ms < 10 ? ms.toFixed(1) : Math.round(ms)} ms`);

function activationRow(a?: ActivationResult): string {
  if (!a)
    return '| activation time in the real VS Code | — | 50 ms | not measured in this run (`--no-activation`) | | |';
  const verdict =
    a.medianMs === undefined ? '**not measured**' : a.medianMs <= ACTIVATION_BUDGET_MS ? 'met' : '**not met**';
  return `| activation time in the real VS Code (median, worst of ${a.runs.length} launches; load ${a.load.map((l) => l.toFixed(1)).join(' → ')}) | \`dist/extension.js\` | ${ACTIVATION_BUDGET_MS} ms | ${msd(a.medianMs)}, worst ${msd(a.worstMs)} (${verdict}) | | ${mbf(a.bundleBytes)} loaded |`;
}

export function bundleTable(bundles: NonNullable<RunResults['bundles']>, activation?: ActivationResult): string[] {
  const out = [
    `Extension budgets (issue 5 item 4)${bundles.built ? '' : ` — \`node scripts/build.mjs\` failed: ${bundles.buildError}`}:`,
    '',
  ];
  out.push('| what | file | budget | as built | gzip | minified (release) |', '|---|---|---|---|---|---|');
  out.push(activationRow(activation));
  for (const b of bundles.sizes) {
    const status = b.bytes === undefined ? 'not built yet' : mbf(b.bytes);
    const over =
      b.budgetBytes !== undefined && b.bytes !== undefined
        ? (b.minifiedBytes ?? b.bytes) <= b.budgetBytes
          ? ' (met)'
          : ' (**over**)'
        : '';
    out.push(
      `| ${b.what} | \`${b.file}\` | ${b.budgetBytes ? mbf(b.budgetBytes) : '—'} | ${status} | ${mbf(b.gzipBytes)} | ${b.minifiedBytes !== undefined ? mbf(b.minifiedBytes) : '—'}${over} |`,
    );
  }
  out.push('');
  return out;
}

/** The extension's budgets on their own (`npm run bench -- --only activation`): activation per launch, and the bundles. */
export function renderActivation(
  a: ActivationResult,
  host: Omit<Machine, 'postgres' | 'settings'>,
  options: string,
  bundles?: RunResults['bundles'],
): string {
  const out = ['### Extension activation in the real VS Code', ''];
  out.push(
    `- Date: ${host.date}`,
    `- Machine: ${host.cpus} CPUs (${host.cpuModel}), ${host.memoryGb} GB memory, ${host.os}; Node ${host.node}`,
  );
  out.push(
    `- Host: ${a.vscode} (its Node 24 extension host), headless Chromium, through test/vscode/harness.js; a fresh profile and workspace per launch`,
  );
  out.push(
    `- Extension: the release build (minified, as \`npm run package\` builds it) of \`dist/extension.js\` (${mbf(a.bundleBytes)}), loaded as a development extension`,
  );
  out.push(`- Code: ${host.revision}`, `- Run: \`${options}\``, '');
  const verdict =
    a.medianMs === undefined ? '**not measured**' : a.medianMs <= ACTIVATION_BUDGET_MS ? 'met' : '**not met**';
  const column = (f: (x: ActivationResult['runs'][number]) => number | undefined) =>
    a.runs.map(f).filter((x): x is number => x !== undefined);
  const worst = (xs: number[]) => (xs.length ? Math.max(...xs) : undefined);
  out.push(
    '| measured | budget | median | worst | best | launches | machine load (1-min avg, start → end) |',
    '|---|---|---|---|---|---|---|',
  );
  out.push(
    `| **activation** as VS Code records it (Show Running Extensions: code loading + the activate() call) | ${ACTIVATION_BUDGET_MS} ms | **${msd(a.medianMs)}** (${verdict}) | ${msd(a.worstMs)} | ${msd(a.bestMs)} | ${a.runs.length}${a.failures.length ? ` (+${a.failures.length} failed)` : ''} | ${a.load.map((l) => l.toFixed(1)).join(' → ')} |`,
  );
  out.push(
    `| of which the body of activate() (its own performance.now()) | | ${msd(a.medianActivateMs)} | ${msd(worst(column((x) => x.activateMs)))} | | | |`,
  );
  out.push(
    `| not in activation: the services, built in the next task (startup.ts phase 2) | — | ${msd(a.medianServicesMs)} | ${msd(worst(column((x) => x.servicesMs)))} | | | |`,
    '',
  );
  out.push(
    `Per launch (activation / activate() / services, load at start): ${a.runs.map((x) => `${x.ms} / ${msd(x.activateMs)} / ${msd(x.servicesMs)} (${x.load.toFixed(1)})`).join('; ')}.`,
    '',
  );
  if (a.failures.length)
    out.push(`Failed launches: ${a.failures.map((f) => f.replace(/\|/g, '/').slice(0, 200)).join('; ')}`, '');
  if (bundles) out.push(...bundleTable(bundles, a));
  return out.join('\n');
}
