// "Mapping gaps": per table, how each row's org_id will be decided, and every finding with counts and samples.
import type { FindingView, GapSampleView, PlanView, TableGapsView } from '../src/shared/protocol';
import { formatCount, plural } from '../src/shared/format';
import { estimateNote, isFirstAnswer } from '../src/shared/plan-answer';
import { button, codicon, h } from './dom';
import type { ViewContext } from './context';

const SEVERITY_ICON = { error: 'error', warning: 'warning', info: 'info' } as const;

function assignmentBar(rows: number, assigned: number): HTMLElement {
  const byRule = h('span', { class: 'bar-rule' });
  const share = rows > 0 ? (assigned / rows) * 100 : 100;
  // CSSOM, not a style attribute: allowed by the CSP's style-src.
  byRule.style.width = `${share.toFixed(2)}%`;
  return h('div', { class: 'bar', 'aria-hidden': 'true' }, byRule);
}

/** Identical samples (rows without a key all look alike) are shown once, with how many there were. */
function groupSamples(samples: readonly GapSampleView[]): { sample: GapSampleView; times: number }[] {
  const groups: { sample: GapSampleView; times: number }[] = [];
  for (const s of samples) {
    const same = groups.find((g) => g.sample.key === s.key && g.sample.detail === s.detail);
    if (same) same.times++;
    else groups.push({ sample: s, times: 1 });
  }
  return groups;
}

function finding(f: FindingView, key: string): HTMLElement {
  const more = f.count - f.samples.length;
  const adviceId = `advice-${key}`;
  return h(
    'li',
    { class: `finding ${f.severity}`, 'aria-describedby': adviceId },
    h(
      'div',
      { class: 'finding-head' },
      codicon(SEVERITY_ICON[f.severity], 'severity'),
      h('h4', null, f.title),
      h('vscode-badge', { variant: 'counter', 'aria-label': plural(f.count, 'row') }, formatCount(f.count)),
      f.blocking ? h('span', { class: 'tag tag-error' }, 'Blocks the run') : null,
    ),
    h('p', { class: 'finding-message' }, f.message),
    f.samples.length > 0
      ? h(
          'div',
          { class: 'samples' },
          h(
            'span',
            { class: 'samples-label' },
            more > 0 ? `First ${f.samples.length} of ${formatCount(f.count)}:` : f.count === 1 ? 'Key:' : 'Keys:',
          ),
          h(
            'ul',
            null,
            groupSamples(f.samples).map(({ sample, times }) =>
              h(
                'li',
                null,
                sample.key === null ? null : h('span', { class: 'key' }, sample.key),
                sample.detail
                  ? h('span', { class: sample.key === null ? 'sample-detail no-key' : 'sample-detail' }, sample.detail)
                  : null,
                sample.key === null && !sample.detail ? h('span', { class: 'sample-detail no-key' }, 'no key') : null,
                times > 1 ? h('span', { class: 'times', 'aria-label': `${times} rows` }, `×${times}`) : null,
              ),
            ),
          ),
        )
      : null,
    h('p', { class: 'advice', id: adviceId }, h('strong', null, f.blocking ? 'To do: ' : 'Note: '), f.advice),
  );
}

const about = (estimated: boolean, n: number) => (estimated ? `≈ ${formatCount(n)}` : formatCount(n));

function gapTable(t: TableGapsView, index: number, note: string): HTMLElement {
  const headingId = `gap-table-${index}`;
  const a = t.assignment;
  return h(
    'article',
    { class: 'gap-table', 'aria-labelledby': headingId },
    h(
      'header',
      { class: 'gap-table-head' },
      h('h3', { id: headingId }, codicon('table'), t.table),
      a ? h('span', { class: 'rule' }, `org from ${a.rule}`) : null,
    ),
    a
      ? h(
          'div',
          { class: 'assignment' },
          assignmentBar(a.rows, a.assigned),
          h(
            'dl',
            { class: 'counts' },
            h('div', null, h('dt', null, 'Rows'), h('dd', null, about(a.estimated, a.rows))),
            h('div', { class: 'by-rule' }, h('dt', null, 'By the rule'), h('dd', null, about(a.estimated, a.assigned))),
            h(
              'div',
              { class: a.toDefault > 0 ? 'to-default some' : 'to-default' },
              h('dt', null, 'To the default org'),
              h('dd', null, about(a.estimated, a.toDefault)),
            ),
          ),
          a.estimated ? h('p', { class: 'estimate-note' }, codicon('info'), note) : null,
        )
      : null,
    t.findings.length > 0
      ? h(
          'ul',
          { class: 'findings', 'aria-label': `Findings for ${t.table}` },
          t.findings.map((f, i) => finding(f, `${index}-${i}`)),
        )
      : h(
          'p',
          { class: 'all-clear' },
          codicon('pass'),
          a ? `All ${plural(a.rows, 'row')} get their org by the rule.` : 'Nothing to report.',
        ),
  );
}

export function gapsSection(plan: PlanView, ctx: ViewContext): HTMLElement {
  const { tables, blocking } = plan.gaps;
  const findings = tables.flatMap((t) => t.findings);
  const blockingCount = findings.filter((f) => f.blocking).length;
  // The stub inserts into the mapping table: offer it when a table that takes its org from there has unmapped rows.
  const stub = tables.some((t) => t.ruleKind === 'mapping' && t.findings.some((f) => f.kind === 'unmapped'));
  return h(
    'section',
    { class: 'section', 'aria-labelledby': 'gaps-heading' },
    h(
      'div',
      { class: 'section-head' },
      h('h2', { id: 'gaps-heading' }, 'Mapping gaps'),
      h(
        'vscode-badge',
        { variant: 'counter', 'aria-label': plural(findings.length, 'finding') },
        String(findings.length),
      ),
      h('span', { class: 'spacer' }),
      stub
        ? button('Write Mapping Stub', {
            id: 'action-stub',
            icon: 'new-file',
            disabled: true,
            title:
              'Open a new SQL editor with INSERT INTO the mapping table for every unmapped row, for you to fill in',
            onPress: () => ctx.send({ type: 'writeMappingStub' }),
          })
        : null,
    ),
    h(
      'p',
      { class: 'section-desc' },
      'How each row’s org_id will be decided, per table. Rows no rule places get the default org. Nothing is written.',
    ),
    blocking
      ? h(
          'div',
          { class: 'callout callout-error', role: 'note' },
          codicon('error'),
          h(
            'p',
            null,
            h('strong', null, 'The run will refuse '),
            `until ${blockingCount === 1 ? 'the blocking finding below is' : `the ${blockingCount} blocking findings below are`} resolved.`,
          ),
        )
      : null,
    isFirstAnswer(plan.gaps)
      ? h(
          'div',
          { class: 'callout callout-info', role: 'status', id: 'gaps-pending' },
          codicon('sync'),
          h(
            'p',
            null,
            h('strong', null, 'First answer: estimates from samples. '),
            `Checking every row (nothing is cleared until this answers): ${(plan.gaps.pending ?? []).join('; ')}.`,
          ),
        )
      : null,
    tables.length > 0
      ? tables.map((t, i) => gapTable(t, i, estimateNote(plan.gaps)))
      : h('p', { class: 'empty' }, 'The spec names no tables to migrate.'),
  );
}
