// The checklist's tree nodes and how each one looks (TreeItem). Pure rendering of the model.
import * as vscode from 'vscode';
import {
  MANUAL_ITEMS,
  STEP_TITLES,
  type CheckResult,
  type ChecklistStep,
  type ManualItem,
  type StepStatus,
} from '../../engine/events';
import { stepDefinition } from '../../engine/steps';
import type { ChecklistModel, StepView } from './model';
import { formatDuration, formatProgress, formatRows, formatTime, percent } from './format';
import { countChecks, formatCheckCount } from '../../shared/format';
import { inVsCode } from './wording';

export type Node =
  | { readonly kind: 'step'; readonly step: ChecklistStep }
  | { readonly kind: 'manual'; readonly item: ManualItem }
  | { readonly kind: 'check'; readonly step: ChecklistStep; readonly index: number }
  /** The prerequisites' checks, grouped under one row so that the manual items stay in view. */
  | { readonly kind: 'checks'; readonly step: ChecklistStep }
  | { readonly kind: 'progress'; readonly step: ChecklistStep; readonly table: string }
  | { readonly kind: 'statement'; readonly step: ChecklistStep }
  | { readonly kind: 'next'; readonly step: ChecklistStep };

const STATUS_ICON: Record<StepStatus, [string, string | undefined]> = {
  pending: ['circle-large-outline', undefined],
  running: ['loading~spin', 'progressBar.background'],
  done: ['pass-filled', 'testing.iconPassed'],
  failed: ['error', 'testing.iconFailed'],
  skipped: ['circle-slash', 'disabledForeground'],
  manual: ['person', 'list.warningForeground'],
};

const icon = ([id, color]: [string, string | undefined]) =>
  new vscode.ThemeIcon(id, color ? new vscode.ThemeColor(color) : undefined);

/** Steps whose checks are grouped under one row. */
const GROUPED_CHECKS: ReadonlySet<ChecklistStep> = new Set(['prerequisites']);

export function children(model: ChecklistModel, node: Node): Node[] {
  if (node.kind === 'checks') return checkNodes(model, node.step);
  if (node.kind !== 'step') return [];
  const view = model.step(node.step);
  const out: Node[] = [];
  if (view.status === 'failed' && view.next) out.push({ kind: 'next', step: node.step });
  if (node.step === 'prerequisites')
    for (const item of Object.keys(MANUAL_ITEMS) as ManualItem[]) out.push({ kind: 'manual', item });
  if (view.status === 'running' && view.statement) out.push({ kind: 'statement', step: node.step });
  for (const table of view.progress.keys()) out.push({ kind: 'progress', step: node.step, table });
  if (GROUPED_CHECKS.has(node.step)) {
    if (view.checks.length) out.push({ kind: 'checks', step: node.step });
  } else {
    out.push(...checkNodes(model, node.step));
  }
  return out;
}

function checkNodes(model: ChecklistModel, step: ChecklistStep): Node[] {
  return model
    .step(step)
    .checks.map((c, index) => ({ c, index }))
    .sort((a, b) => rank(a.c) - rank(b.c))
    .map(({ index }) => ({ kind: 'check', step, index }));
}

/** Failures first, then warnings, then what passed. */
const rank = (c: CheckResult) => (c.ok ? 2 : c.severity === 'warning' ? 1 : 0);

export function treeItem(model: ChecklistModel, node: Node): vscode.TreeItem {
  switch (node.kind) {
    case 'step':
      return stepItem(model, model.step(node.step), children(model, node).length > 0);
    case 'manual':
      return manualItem(model, node.item);
    case 'check':
      return checkItem(model.step(node.step).checks[node.index]!, node);
    case 'checks':
      return checksItem(model.step(node.step).checks, node.step);
    case 'progress': {
      const p = model.step(node.step).progress.get(node.table)!;
      const item = new vscode.TreeItem(p.table);
      item.id = `progress:${node.step}:${node.table}`;
      item.description = formatProgress(p);
      item.iconPath = new vscode.ThemeIcon(p.done >= p.total ? 'check' : 'sync~spin');
      item.tooltip = `Backfill of ${p.table}: pages ${p.done} of ${p.total}, ${formatProgress(p)}`;
      item.contextValue = 'progress';
      return item;
    }
    case 'statement': {
      const s = model.step(node.step).statement!;
      const view = model.step(node.step);
      const item = new vscode.TreeItem(`Statement ${s.index + 1} of ${s.total}`);
      item.id = `statement:${node.step}`;
      item.description = view.waiting ?? `line ${s.line}${s.phase ? ` · ${s.phase}` : ''}`;
      item.iconPath = new vscode.ThemeIcon(view.waiting ? 'lock' : 'debug-line-by-line');
      item.contextValue = 'statement';
      return item;
    }
    case 'next': {
      // Short in the label (a 300 px side bar cuts the rest); the whole text in the tooltip and in Show Details.
      const next = inVsCode(model.step(node.step).next!);
      const item = new vscode.TreeItem('What to do next');
      item.id = `next:${node.step}`;
      item.description = next;
      item.iconPath = new vscode.ThemeIcon('lightbulb', new vscode.ThemeColor('list.warningForeground'));
      item.tooltip = new vscode.MarkdownString(`**What to do next**\n\n${escape(next)}\n\n_Click for the details._`);
      item.command = { command: 'tenantMigration.showNextDetails', title: 'Show Details', arguments: [node] };
      item.contextValue = 'next';
      return item;
    }
  }
}

function stepItem(model: ChecklistModel, view: StepView, hasChildren: boolean): vscode.TreeItem {
  const item = new vscode.TreeItem(STEP_TITLES[view.step]);
  item.id = `step:${view.step}`;
  // Prerequisites that passed are not plain green while manual items are unticked.
  const untickedAfterPass =
    view.step === 'prerequisites' && view.status === 'done' && model.openManualItems().length > 0;
  item.iconPath = icon(untickedAfterPass ? ['pass', 'list.warningForeground'] : STATUS_ICON[view.status]);
  item.description = stepDescription(model, view);
  item.collapsibleState = !hasChildren
    ? vscode.TreeItemCollapsibleState.None
    : view.status === 'running' || view.status === 'failed' || view.step === 'prerequisites'
      ? vscode.TreeItemCollapsibleState.Expanded
      : vscode.TreeItemCollapsibleState.Collapsed;
  item.tooltip = stepTooltip(model, view);
  const definition = stepDefinition(view.step);
  item.contextValue = [
    'step',
    view.step,
    definition.inRun === 'yes' ? 'fromHere' : '',
    definition.showsSql ? 'hasSql' : '',
  ]
    .filter(Boolean)
    .join(' ');
  item.accessibilityInformation = { label: `${STEP_TITLES[view.step]}: ${view.status}. ${item.description ?? ''}` };
  return item;
}

/** The state first and short (a 300 px side bar shows about 30 characters of it); the rest is in the tooltip. */
export function stepDescription(model: ChecklistModel, view: StepView): string {
  const parts: string[] = [];
  const unticked = view.step === 'prerequisites' ? model.openManualItems().length : 0;
  if (view.status === 'running') {
    const active = view.backfilling ? view.progress.get(view.backfilling) : undefined;
    if (view.waiting) parts.push(view.waiting);
    else if (active)
      parts.push(
        `${percent(active)}% ${shortName(active.table)}`,
        timeLeft(active),
        formatProgress(active).split(' · ')[0]!,
      );
    else if (view.statement) parts.push(`statement ${view.statement.index + 1} of ${view.statement.total}`);
    else parts.push('running');
    return parts.join(' · ');
  }
  if (view.status === 'failed') parts.push('failed');
  if (unticked) parts.push(`${unticked} to tick`);
  if (view.status === 'skipped') parts.push(view.summary ?? 'skipped');
  if (view.durationMs !== undefined && view.status !== 'skipped') parts.push(formatDuration(view.durationMs));
  if (view.rows !== undefined && view.rows > 0) parts.push(formatRows(view.rows));
  if (view.status === 'pending' && !unticked) {
    if (view.step === 'preview') parts.push('review the plan before you run');
    else if (view.summary) parts.push(view.summary);
  }
  if (view.status === 'done' && view.step === 'report' && view.finishedAt)
    return `written ${formatTime(view.finishedAt)}`;
  return parts.join(' · ');
}

function stepTooltip(model: ChecklistModel, view: StepView): vscode.MarkdownString {
  const md = new vscode.MarkdownString(undefined, true);
  md.appendMarkdown(`**${STEP_TITLES[view.step]}** — ${view.status}\n\n`);
  if (view.summary) md.appendMarkdown(`${escape(view.summary)}\n\n`);
  const unticked = view.step === 'prerequisites' ? model.openManualItems() : [];
  if (unticked.length)
    md.appendMarkdown(
      `Manual items not ticked: ${escape(unticked.map((m) => MANUAL_ITEMS[m]).join('; '))}. A writing step asks before it goes on without them.\n\n`,
    );
  for (const p of view.status === 'running' ? view.progress.values() : [])
    md.appendMarkdown(`${escape(p.table)}: ${escape(formatProgress(p))}\n\n`);
  const facts: string[] = [];
  if (view.startedAt) facts.push(`started ${formatTime(view.startedAt)}`);
  if (view.durationMs !== undefined) facts.push(`took ${formatDuration(view.durationMs)}`);
  if (view.rows !== undefined) facts.push(formatRows(view.rows));
  if (facts.length) md.appendMarkdown(`${facts.join(' · ')}\n\n`);
  if (view.next) md.appendMarkdown(`$(lightbulb) ${escape(inVsCode(view.next))}\n\n`);
  if (view.source === 'database' && model.facts)
    md.appendMarkdown(`_As recorded in ${escape(model.facts.database)} (read ${formatTime(model.facts.readAt)})._`);
  return md;
}

function manualItem(model: ChecklistModel, item: ManualItem): vscode.TreeItem {
  const tick = model.manual.get(item);
  const node = new vscode.TreeItem(MANUAL_ITEMS[item]);
  node.id = `manual:${item}`;
  node.checkboxState = tick ? vscode.TreeItemCheckboxState.Checked : vscode.TreeItemCheckboxState.Unchecked;
  node.description = tick ? `${tick.by} · ${formatTime(tick.at)}` : 'tick when done';
  node.tooltip = tick
    ? `Ticked by ${tick.by} at ${new Date(tick.at).toISOString()}; recorded in tenant_migration.manual_items and the audit log.`
    : 'A manual prerequisite: tick it when done. Who ticked it and when is recorded in the database.';
  node.contextValue = tick ? 'manual ticked' : 'manual open';
  return node;
}

function checksItem(checks: readonly CheckResult[], step: ChecklistStep): vscode.TreeItem {
  const { failed, warnings } = countChecks(checks);
  const item = new vscode.TreeItem(
    formatCheckCount(checks),
    failed || warnings ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.Collapsed,
  );
  item.id = `checks:${step}:${failed}:${warnings}`;
  item.iconPath = failed
    ? new vscode.ThemeIcon('close', new vscode.ThemeColor('testing.iconFailed'))
    : warnings
      ? new vscode.ThemeIcon('warning', new vscode.ThemeColor('list.warningForeground'))
      : new vscode.ThemeIcon('checklist', new vscode.ThemeColor('testing.iconPassed'));
  item.contextValue = 'checks';
  return item;
}

function checkItem(check: CheckResult, node: Node): vscode.TreeItem {
  const item = new vscode.TreeItem(check.name);
  item.id = `check:${node.kind === 'check' ? `${node.step}:${node.index}` : ''}:${check.name}`;
  item.description = check.detail;
  item.tooltip = `${check.ok ? 'Passed' : check.severity === 'warning' ? 'Warning' : 'Failed'}: ${check.name}\n${check.detail}`;
  item.iconPath = check.ok
    ? new vscode.ThemeIcon('check', new vscode.ThemeColor('testing.iconPassed'))
    : check.severity === 'warning'
      ? new vscode.ThemeIcon('warning', new vscode.ThemeColor('list.warningForeground'))
      : new vscode.ThemeIcon('close', new vscode.ThemeColor('testing.iconFailed'));
  item.contextValue = check.ok ? 'check passed' : 'check failed';
  return item;
}

/** "2 min left", "estimating", "done". */
function timeLeft(p: Parameters<typeof formatProgress>[0]): string {
  return p.done >= p.total ? 'done' : p.etaMs === undefined ? 'estimating' : `${formatDuration(p.etaMs)} left`;
}

/** "public.credentials" → "credentials": the schema only when it is not the default one. */
export function shortName(table: string): string {
  return table.startsWith('public.') ? table.slice('public.'.length) : table;
}

function escape(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, '\\$&');
}
