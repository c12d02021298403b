// The page header (title, script, summary, the Run / Generate Script / Refresh actions) and the busy / error regions.
import type { PlanView } from '../src/shared/protocol';
import { plural } from '../src/shared/format';
import { isFirstAnswer, runTitle } from '../src/shared/plan-answer';
import { button, codicon, h } from './dom';
import type { ViewContext } from './context';

export type Status = { kind: 'busy'; message: string } | { kind: 'error'; message: string; next?: string } | undefined;

function summary(plan: PlanView): HTMLElement {
  const statements = plan.phases.reduce((n, p) => n + p.statements.length, 0);
  const blockingLocks = plan.phases.reduce((n, p) => n + p.blockingStatements, 0);
  const findings = plan.gaps.tables.flatMap((t) => t.findings);
  const blockingFindings = findings.filter((f) => f.blocking).length;
  const item = (icon: string, text: string, cls?: string) => h('li', { class: cls }, codicon(icon), text);
  return h(
    'ul',
    { class: 'summary', 'aria-label': 'Summary' },
    item('table', plural(plan.tables.length, 'table')),
    item('list-ordered', `${plural(statements, 'statement')} in ${plural(plan.phases.length, 'phase')}`),
    item(
      blockingLocks > 0 ? 'warning' : 'lock',
      blockingLocks > 0 ? `${plural(blockingLocks, 'statement')} blocking writes` : 'no statement blocks writes',
      blockingLocks > 0 ? 'warn' : undefined,
    ),
    blockingFindings > 0
      ? item('error', plural(blockingFindings, 'blocking gap'), 'err')
      : isFirstAnswer(plan.gaps)
        ? item('sync', 'first answer (estimates): checking every row for blocking gaps…', 'warn')
        : item(
            'pass',
            findings.length > 0 ? `${plural(findings.length, 'gap')}, none blocking` : 'no mapping gaps',
            'ok',
          ),
  );
}

export function headerSection(plan: PlanView | undefined, ctx: ViewContext): HTMLElement {
  const blocked = plan?.gaps.blocking === true;
  return h(
    'header',
    { class: 'page-header' },
    h(
      'div',
      { class: 'title-row' },
      h('h1', null, 'Migration plan'),
      h(
        'div',
        { class: 'actions', role: 'toolbar', 'aria-label': 'Plan actions' },
        button('Run', {
          id: 'action-run',
          icon: 'play',
          disabled: true,
          describedBy: blocked ? 'run-blocked' : undefined,
          title: runTitle(plan?.gaps),
          onPress: () => ctx.send({ type: 'run' }),
        }),
        button('Generate Script', {
          id: 'action-generate',
          icon: 'file-code',
          secondary: true,
          disabled: true,
          title: 'Write the migration script generated from tenant-migration.json into the workspace',
          onPress: () => ctx.send({ type: 'generateScript' }),
        }),
        button('Refresh', {
          id: 'action-refresh',
          icon: 'refresh',
          secondary: true,
          disabled: true,
          title: 'Read the plan and the mapping gaps again',
          onPress: () => ctx.send({ type: 'refresh' }),
        }),
      ),
    ),
    plan
      ? h(
          'p',
          { class: 'script' },
          codicon('file-code'),
          h('span', { class: 'script-path' }, plan.scriptPath),
          h(
            'span',
            { class: plan.scriptExists ? 'tag' : 'tag tag-info' },
            plan.scriptExists ? 'the workspace’s script' : 'not written yet: generated from the spec',
          ),
        )
      : null,
    plan ? summary(plan) : null,
    blocked
      ? h(
          'p',
          { class: 'run-blocked', id: 'run-blocked' },
          codicon('info'),
          'Run is unavailable until the blocking mapping gaps are resolved.',
        )
      : null,
  );
}

function setDisabled(id: string, disabled: boolean): void {
  const el = document.getElementById(id);
  if (!el) return;
  el.toggleAttribute('disabled', disabled);
  el.setAttribute('aria-disabled', String(disabled));
}

/** Actions wait while the host is busy; Run also waits for a plan whose exact checks found no blocking gap. */
export function setActionsEnabled(plan: PlanView | undefined, busy: boolean): void {
  setDisabled('action-run', busy || !plan || plan.gaps.blocking || isFirstAnswer(plan.gaps));
  setDisabled('action-generate', busy || !plan);
  setDisabled('action-refresh', busy);
  setDisabled('action-stub', busy || !plan);
}

export function renderStatus(
  busyRegion: HTMLElement,
  alertRegion: HTMLElement,
  status: Status,
  ctx: ViewContext,
  hasPlan: boolean,
): void {
  busyRegion.replaceChildren(
    status?.kind === 'busy'
      ? h('p', { class: 'busy' }, h('vscode-icon', { name: 'loading', spin: true }), status.message)
      : '',
  );
  alertRegion.replaceChildren(
    status?.kind === 'error'
      ? h(
          'div',
          { class: 'callout callout-error' },
          codicon('error'),
          h(
            'div',
            null,
            h('p', null, h('strong', null, status.message)),
            status.next ? h('p', null, status.next) : null,
            hasPlan ? h('p', { class: 'stale' }, 'The plan below is from the last successful read.') : null,
            h(
              'p',
              null,
              h(
                'button',
                {
                  class: 'link-button',
                  type: 'button',
                  id: 'error-retry',
                  onclick: () => ctx.send({ type: 'refresh' }),
                },
                codicon('refresh'),
                'Try again',
              ),
            ),
          ),
        )
      : '',
  );
}
