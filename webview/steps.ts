// "Steps": each phase of the script as a disclosure, with its statements, their line in the script and their locks.
import type { LockView, PhaseView, PlanView, StatementView } from '../src/shared/protocol';
import { plural } from '../src/shared/format';
import { button, codicon, h } from './dom';
import type { ViewContext } from './context';

/** Statements longer than CLIP_AFTER lines show their first CLIP_LINES lines until expanded (the CSS clips at 12). */
const CLIP_LINES = 12;
const CLIP_AFTER = CLIP_LINES + 4;

function lock(l: LockView): HTMLElement {
  return h(
    'li',
    { class: l.blocksWrites ? 'lock blocks' : 'lock' },
    codicon(l.blocksWrites ? 'warning' : 'lock'),
    h('span', { class: 'lock-mode' }, l.mode),
    h('span', { class: 'lock-table' }, l.table),
    l.blocksWrites ? h('span', { class: 'lock-flag' }, 'blocks writes') : null,
    l.note ? h('span', { class: 'lock-note' }, l.note) : null,
  );
}

/** One line of SQL: when it wraps, the continuation is indented past the line's own indentation (CSS reads --indent). */
function sqlLine(text: string): HTMLElement {
  const el = h('span', { class: 'sql-line' }, text === '' ? ' ' : text);
  const indent = /^[ \t]*/.exec(text)![0].replace(/\t/g, '    ').length;
  if (indent > 0) el.style.setProperty('--indent', String(indent));
  return el;
}

function sqlBlock(s: StatementView, ctx: ViewContext): HTMLElement[] {
  const sqlLines = s.sql.split('\n');
  const lines = sqlLines.length;
  const code = h(
    'pre',
    { class: 'sql', id: `sql-${s.index}`, tabindex: 0, 'aria-label': `SQL at line ${s.line}` },
    h('code', null, sqlLines.map(sqlLine)),
  );
  if (lines <= CLIP_AFTER) return [code];
  const toggle = h('button', { class: 'link-button', type: 'button', 'aria-controls': code.id }) as HTMLButtonElement;
  const apply = (expanded: boolean) => {
    code.classList.toggle('clipped', !expanded);
    toggle.setAttribute('aria-expanded', String(expanded));
    toggle.replaceChildren(
      codicon(expanded ? 'fold-up' : 'unfold'),
      expanded ? 'Show less' : `Show all ${lines} lines`,
    );
  };
  apply(ctx.state.isExpanded(s.index));
  toggle.addEventListener('click', () => {
    const expanded = toggle.getAttribute('aria-expanded') !== 'true';
    ctx.state.setExpanded(s.index, expanded);
    apply(expanded);
  });
  return [code, toggle];
}

function statement(s: StatementView, ctx: ViewContext): HTMLElement {
  const blocks = s.locks.some((l) => l.blocksWrites);
  return h(
    'li',
    { class: blocks ? 'statement blocks' : 'statement' },
    h(
      'div',
      { class: 'statement-head' },
      h(
        'button',
        {
          class: 'line-link',
          type: 'button',
          title: 'Open the script at this line',
          'aria-label': `Open the script at line ${s.line}`,
          onclick: () => ctx.send({ type: 'openScriptAt', line: s.line }),
        },
        codicon('go-to-file'),
        `Line ${s.line}`,
      ),
      s.kind === 'psql'
        ? h('span', { class: 'tag', title: 'A psql meta-command: psql runs it, the server never sees it' }, 'psql')
        : null,
      s.locks.length === 0 ? h('span', { class: 'no-locks' }, 'no table locks') : null,
    ),
    s.locks.length > 0 ? h('ul', { class: 'locks', 'aria-label': 'Locks' }, s.locks.map(lock)) : null,
    sqlBlock(s, ctx),
  );
}

function phase(p: PhaseView, number: number, ctx: ViewContext): HTMLElement {
  const details = h(
    'details',
    { class: p.blockingStatements > 0 ? 'phase blocks' : 'phase', id: `phase-${p.id}`, open: ctx.state.isOpen(p.id) },
    h(
      'summary',
      null,
      codicon('chevron-right', 'chevron'),
      h('h3', null, h('span', { class: 'phase-number' }, `${number}.`), ' ', p.title),
      h(
        'span',
        { class: 'phase-meta' },
        h('span', null, plural(p.statements.length, 'statement')),
        p.blockingStatements > 0
          ? h(
              'span',
              { class: 'tag tag-warning' },
              codicon('warning'),
              p.blockingStatements === 1 ? '1 blocks writes' : `${p.blockingStatements} block writes`,
            )
          : null,
      ),
    ),
    p.tables.length > 0 ? h('p', { class: 'phase-tables' }, `Locks ${p.tables.join(', ')}`) : null,
    h(
      'ol',
      { class: 'statements' },
      p.statements.map((s) => statement(s, ctx)),
    ),
  );
  details.addEventListener('toggle', () => ctx.state.setOpen(p.id, (details as HTMLDetailsElement).open));
  return details;
}

export function stepsSection(plan: PlanView, ctx: ViewContext): HTMLElement {
  const count = plan.phases.reduce((n, p) => n + p.statements.length, 0);
  const blocking = plan.phases.reduce((n, p) => n + p.blockingStatements, 0);
  const setAll = (open: boolean) => {
    for (const d of document.querySelectorAll<HTMLDetailsElement>('details.phase')) d.open = open;
  };
  return h(
    'section',
    { class: 'section', 'aria-labelledby': 'steps-heading' },
    h(
      'div',
      { class: 'section-head' },
      h('h2', { id: 'steps-heading' }, 'Steps'),
      h('vscode-badge', { variant: 'counter', 'aria-label': plural(count, 'statement') }, String(count)),
      h('span', { class: 'spacer' }),
      plan.phases.length > 1
        ? button('Expand All', { icon: 'expand-all', secondary: true, onPress: () => setAll(true) })
        : null,
      plan.phases.length > 1
        ? button('Collapse All', { icon: 'collapse-all', secondary: true, onPress: () => setAll(false) })
        : null,
    ),
    h(
      'p',
      { class: 'section-desc' },
      'Every statement of the script in order, with the table locks it takes. ',
      blocking > 0
        ? h(
            'span',
            null,
            'Locks marked ',
            h('span', { class: 'lock-flag legend' }, codicon('warning'), 'blocks writes'),
            ` hold up the application’s writes while held (${plural(blocking, 'statement')}).`,
          )
        : 'No statement takes a lock that blocks the application’s writes.',
    ),
    plan.phases.length > 0
      ? h(
          'div',
          { class: 'phases' },
          plan.phases.map((p, i) => phase(p, i + 1, ctx)),
        )
      : h('p', { class: 'empty' }, 'The script has no statements.'),
  );
}
