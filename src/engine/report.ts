// Step 7: the run report (Markdown) for stakeholders and auditors, and a status text per communication phase.
import type { CheckResult, StepId } from './events';
import { STEP_TITLES } from './events';
import type { GapReport } from './gaps';
import { redact } from './redact';

export interface StepOutcome {
  readonly step: StepId;
  readonly status: 'done' | 'failed' | 'skipped' | 'pending';
  readonly startedAt?: string;
  readonly durationMs?: number;
  readonly rows?: number;
  readonly summary?: string;
  readonly next?: string;
  readonly checks?: CheckResult[];
}

export interface ReportInput {
  readonly database: string;
  readonly operator: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly toolVersion: string;
  readonly scriptPath?: string;
  readonly scriptChecksum?: string;
  readonly steps: StepOutcome[];
  readonly gaps?: GapReport;
  readonly manualItems: { item: string; tickedBy: string; tickedAt: string }[];
  /** Tables the spec names as shared by every org: not migrated. */
  readonly sharedTables?: string[];
}

// Plain marks, not emoji: they render in every font a reader or a PDF converter has.
const icon = (status: string) =>
  ({ done: '✓ done', failed: '✗ failed', skipped: '– skipped', pending: '○ pending' })[status] ?? status;
const seconds = (ms?: number) => (ms === undefined ? '' : `${(ms / 1000).toFixed(1)} s`);
const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function statusTexts(input: ReportInput): Record<'before' | 'during' | 'after', string> {
  const failedStep = input.steps.find((s) => s.status === 'failed');
  return {
    before: `Scheduled maintenance: the ${input.database} database moves to a multi-tenant schema, starting ${input.startedAt}. Writes keep working; brief pauses are possible.`,
    during: `Migration in progress on ${input.database}: ${input.steps.filter((s) => s.status === 'done').length} of ${input.steps.length} steps done.`,
    after: failedStep
      ? `The migration of ${input.database} stopped at "${STEP_TITLES[failedStep.step]}": ${failedStep.summary ?? 'see the report'}. The system stays on the legacy schema until it is resolved.`
      : `The migration of ${input.database} is complete and validated; tenant isolation verified. Normal operation resumes.`,
  };
}

export function renderReport(input: ReportInput): string {
  const failedStep = input.steps.find((s) => s.status === 'failed');
  const lines: string[] = [
    `# Tenant migration report — ${input.database}`,
    '',
    `**Outcome:** ${failedStep ? `✗ failed at ${STEP_TITLES[failedStep.step]}` : '✓ succeeded'}  `,
    `**Operator:** ${input.operator}  `,
    `**Started:** ${input.startedAt}  `,
    `**Finished:** ${input.finishedAt}  `,
    `**Tool:** tenant-migration ${input.toolVersion}  `,
    ...(input.scriptPath ? [`**Script:** \`${input.scriptPath}\` (sha256 \`${input.scriptChecksum ?? '?'}\`)  `] : []),
    '',
    '## Steps',
    '',
    '| Status | Step | Duration | Rows | Summary |',
    '|---|---|---|---|---|',
    ...input.steps.map(
      (s) =>
        `| ${icon(s.status)} | ${STEP_TITLES[s.step]} | ${seconds(s.durationMs)} | ${s.rows ?? ''} | ${cell(s.summary ?? '')} |`,
    ),
    '',
  ];
  if (failedStep?.next) lines.push(`**What to do next:** ${failedStep.next}`, '');
  if (input.gaps) {
    lines.push('## Org assignment', '', '| Table | Rule | Rows | By rule | Default org |', '|---|---|---|---|---|');
    for (const t of input.gaps.tables) {
      const n = (count: number) => `${t.estimated ? '≈ ' : ''}${count}`;
      lines.push(`| ${cell(t.table)} | ${cell(t.rule)} | ${n(t.rows)} | ${n(t.assigned)} | ${n(t.toDefault)} |`);
    }
    lines.push('');
    if (input.gaps.tables.some((t) => t.estimated))
      lines.push(
        '≈: estimated from a sample of the table before the run (conflicts and missing orgs are always counted exactly).',
        '',
      );
    for (const f of input.gaps.findings)
      lines.push(
        `- ${f.blocking ? '✗ blocking:' : '•'} ${cell(f.table)}: ${f.message}${f.samples.length ? ` (e.g. ${f.samples.map((s) => s.key).join(', ')})` : ''}`,
      );
    lines.push('');
  }
  if (input.sharedTables && input.sharedTables.length > 0) {
    lines.push(
      '## Shared tables',
      '',
      'Not migrated: every org reads all their rows; left out of the isolation probes.',
      '',
    );
    for (const t of input.sharedTables) lines.push(`- ${cell(t)}`);
    lines.push('');
  }
  for (const s of input.steps.filter((x) => x.checks && x.checks.length > 0)) {
    lines.push(`## ${STEP_TITLES[s.step]} — checks`, '', '| Result | Check | Detail |', '|---|---|---|');
    for (const c of s.checks!)
      lines.push(
        `| ${c.ok ? '✓ pass' : c.severity === 'warning' ? '! warning' : '✗ fail'} | ${cell(c.name)} | ${cell(c.detail)} |`,
      );
    lines.push('');
  }
  lines.push('## Manual items', '');
  if (input.manualItems.length === 0) lines.push('None ticked.');
  for (const m of input.manualItems) lines.push(`- ☑ ${m.item} — ${m.tickedBy}, ${m.tickedAt}`);
  const texts = statusTexts(input);
  lines.push(
    '',
    '## Communication',
    '',
    `- **Before:** ${texts.before}`,
    `- **During:** ${texts.during}`,
    `- **After:** ${texts.after}`,
    '',
  );
  return redact(lines.join('\n'));
}
