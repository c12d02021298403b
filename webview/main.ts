// The plan preview webview: says `ready`, then renders whatever the host posts (a plan, a busy state, an error).
// Everything it can ask of the host is one of the typed actions in src/shared/protocol.ts.
import '@vscode-elements/elements/dist/vscode-badge/index.js';
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-icon/index.js';
import type { HostMessage, PlanView } from '../src/shared/protocol';
import { ViewStateStore, type ViewContext, type ViewState } from './context';
import { h } from './dom';
import { gapsSection } from './gaps';
import { headerSection, renderStatus, setActionsEnabled, type Status } from './header';
import { stepsSection } from './steps';
import { tablesSection } from './tables';

const api = acquireVsCodeApi<ViewState>();
const ctx: ViewContext = { send: (message) => api.postMessage(message), state: new ViewStateStore(api) };
const app = document.getElementById('app')!;

// Persistent regions: the live regions must exist before their content changes for screen readers to announce it,
// and a busy/error change must not rebuild the plan (it would lose focus and the open phases' scroll position).
const header = h('div', { class: 'header-host' });
const busyRegion = h('div', { class: 'status', role: 'status', 'aria-live': 'polite' });
const alertRegion = h('div', { class: 'status', role: 'alert' });
const body = h('div', { class: 'plan-host' });
app.replaceChildren(header, busyRegion, alertRegion, body);

let plan: PlanView | undefined;
let status: Status = { kind: 'busy', message: 'Loading the plan…' };

/** The host is trusted, but a message of another shape (another version of the extension) must not break the page. */
function isHostMessage(data: unknown): data is HostMessage {
  if (typeof data !== 'object' || data === null) return false;
  const m = data as Record<string, unknown>;
  switch (m.type) {
    case 'plan':
      return typeof m.plan === 'object' && m.plan !== null && Array.isArray((m.plan as PlanView).phases);
    case 'busy':
      return typeof m.message === 'string';
    case 'error':
      return typeof m.message === 'string' && (m.next === undefined || typeof m.next === 'string');
    default:
      return false;
  }
}

function update(planChanged: boolean): void {
  if (planChanged && plan) {
    const focusedId = document.activeElement instanceof HTMLElement ? document.activeElement.id : '';
    header.replaceChildren(headerSection(plan, ctx));
    body.replaceChildren(gapsSection(plan, ctx), stepsSection(plan, ctx), tablesSection(plan));
    if (focusedId) document.getElementById(focusedId)?.focus();
  } else if (!plan && header.childElementCount === 0) {
    header.replaceChildren(headerSection(undefined, ctx));
  }
  renderStatus(busyRegion, alertRegion, status, ctx, plan !== undefined);
  app.setAttribute('aria-busy', String(status?.kind === 'busy' && !plan));
  setActionsEnabled(plan, status?.kind === 'busy');
}

window.addEventListener('message', (event: MessageEvent<unknown>) => {
  const message = event.data;
  if (!isHostMessage(message)) return;
  switch (message.type) {
    case 'plan':
      plan = message.plan;
      status = undefined;
      break;
    case 'busy':
      status = { kind: 'busy', message: message.message };
      break;
    case 'error':
      status = { kind: 'error', message: message.message, next: message.next };
      break;
  }
  update(message.type === 'plan');
});

update(false);
ctx.send({ type: 'ready' });
