// "Tables": what the migration rewrites, with the planner's row estimate and the size on disk.
import type { PlanView } from '../src/shared/protocol';
import { formatBytes, formatCount } from '../src/shared/format';
import { h } from './dom';

export function tablesSection(plan: PlanView): HTMLElement {
  const rows = plan.tables.reduce((n, t) => n + t.estimatedRows, 0);
  const bytes = plan.tables.reduce((n, t) => n + t.totalBytes, 0);
  return h(
    'section',
    { class: 'section', 'aria-labelledby': 'tables-heading' },
    h('div', { class: 'section-head' }, h('h2', { id: 'tables-heading' }, 'Tables')),
    h(
      'p',
      { class: 'section-desc' },
      'Row counts are the planner’s estimates; sizes include indexes and TOAST. Allow about twice the total in free space: the backups, and the row versions the backfill writes.',
    ),
    plan.tables.length === 0
      ? h('p', { class: 'empty' }, 'No tables to migrate.')
      : h(
          'table',
          { class: 'data-table' },
          h(
            'thead',
            null,
            h(
              'tr',
              null,
              h('th', { scope: 'col' }, 'Table'),
              h('th', { scope: 'col', class: 'num' }, 'Estimated rows'),
              h('th', { scope: 'col', class: 'num' }, 'Size'),
            ),
          ),
          h(
            'tbody',
            null,
            plan.tables.map((t) =>
              h(
                'tr',
                null,
                h('th', { scope: 'row', class: 'mono' }, t.table),
                h('td', { class: 'num' }, `~${formatCount(t.estimatedRows)}`),
                h('td', { class: 'num' }, formatBytes(t.totalBytes)),
              ),
            ),
          ),
          plan.tables.length > 1
            ? h(
                'tfoot',
                null,
                h(
                  'tr',
                  null,
                  h('th', { scope: 'row' }, 'Total'),
                  h('td', { class: 'num' }, `~${formatCount(rows)}`),
                  h('td', { class: 'num' }, formatBytes(bytes)),
                ),
              )
            : null,
        ),
  );
}
