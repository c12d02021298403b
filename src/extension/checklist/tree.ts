// The Checklist view: the model as a tree, the view's description (the connection) and message (locks, rollbacks,
// connection problems), and the manual items' checkboxes.
import * as vscode from 'vscode';
import { STEPS, type ChecklistStep, type ManualItem } from '../../engine/events';
import { Disposable } from '../lifecycle';
import type { ChecklistModel } from './model';
import { children, treeItem, type Node } from './nodes';
import { formatTime } from './format';
import type { StartupRegistrations } from '../startup';

export { CHECKLIST_VIEW } from '../startup';

/** One object per step: VS Code refreshes an element by identity, so the step rows must stay the same objects. */
const STEP_NODES = Object.fromEntries(STEPS.map((step) => [step, { kind: 'step', step } as const])) as Record<
  ChecklistStep,
  Node & { kind: 'step' }
>;

/**
 * How often live changes reach the tree. VS Code shows a tree's changes only once 200 ms pass without another
 * onDidChangeTreeData (each event restarts that wait), so a provider that fires more often than that shows nothing
 * for as long as the changes keep coming: a backfill's progress did, every 150 ms, for the whole migrate step.
 */
const REFRESH_MS = 300;

export interface ChecklistHost {
  /** False when the welcome views should show instead (no spec, no connection, untrusted workspace). */
  ready(): boolean;
  connectionLabel(): string | undefined;
  /** The running operation's elapsed time and time left, if one runs. */
  runLine(): string | undefined;
  tick(item: ManualItem): Promise<void>;
}

export class ChecklistTree extends Disposable implements vscode.TreeDataProvider<Node> {
  private readonly changed = this.register(new vscode.EventEmitter<Node | Node[] | undefined>());
  readonly onDidChangeTreeData = this.changed.event;
  readonly view: vscode.TreeView<Node>;
  /** Set when the database could not be read; shown above the steps. */
  private problem?: string;
  /**
   * Live updates are paced: a backfill or the isolation matrix changes the model hundreds of times a second, and a
   * refresh costs VS Code round trips. Changes are gathered for a moment (REFRESH_MS) and refresh only the steps that
   * changed.
   */
  private pending: { timer?: ReturnType<typeof setTimeout>; steps: Set<ChecklistStep>; all: boolean } = {
    steps: new Set(),
    all: false,
  };

  /** The view is created at activation (startup.ts); this provider answers for it once attached. */
  constructor(
    private readonly model: ChecklistModel,
    private readonly host: ChecklistHost,
    startup: Pick<StartupRegistrations, 'checklistView' | 'attachChecklist'>,
  ) {
    super();
    this.view = startup.checklistView;
    this.register(startup.attachChecklist(this));
    this.register(model.onDidChange((step) => this.schedule(step)));
    this.register({ dispose: () => clearTimeout(this.pending.timer) });
    this.register(this.view.onDidChangeCheckboxState((e) => this.onCheckbox(e)));
  }

  refresh(): void {
    this.updateHeader();
    this.changed.fire(undefined);
  }

  /** The header only (the run's elapsed time changes every second, the tree does not). */
  refreshHeader(): void {
    this.updateHeader();
  }

  setProblem(problem: string | undefined): void {
    this.problem = problem;
    this.refresh();
  }

  /** A paced refresh of what changed (see `pending`). */
  private schedule(step: ChecklistStep | undefined): void {
    const p = this.pending;
    if (step) p.steps.add(step);
    else p.all = true;
    p.timer ??= setTimeout(() => {
      const nodes = p.all ? undefined : [...p.steps].map((s) => STEP_NODES[s]);
      Object.assign(p, { timer: undefined, steps: new Set(), all: false });
      this.updateHeader();
      this.changed.fire(nodes);
    }, REFRESH_MS);
  }

  getChildren(node?: Node): Node[] {
    if (!this.host.ready()) return [];
    return node ? children(this.model, node) : STEPS.map((step) => STEP_NODES[step]);
  }

  getTreeItem(node: Node): vscode.TreeItem {
    return treeItem(this.model, node);
  }

  getParent(node: Node): Node | undefined {
    if (node.kind === 'step') return undefined;
    if (node.kind === 'manual') return STEP_NODES.prerequisites;
    if (node.kind === 'check' && node.step === 'prerequisites') return { kind: 'checks', step: node.step };
    return STEP_NODES[node.step];
  }

  private updateHeader(): void {
    const ready = this.host.ready();
    // Set only when it changes: each set is a message to the workbench (the description redraws the view's title bar,
    // the message restarts VS Code's wait before it shows the tree's changes).
    const description = ready ? this.host.connectionLabel() : undefined;
    if (this.view.description !== description) this.view.description = description;
    const facts = this.model.facts;
    const lines: string[] = [];
    const running = this.host.runLine();
    if (ready && running) lines.push(running);
    if (ready && this.problem) lines.push(this.problem);
    if (ready && facts?.lockHeldBy) {
      const h = facts.lockHeldBy;
      lines.push(
        `Another run holds the lock: ${h.operator ?? h.user}${h.command ? ` ("${h.command}")` : ''}, pid ${h.pid}, since ${formatTime(h.since)}.`,
      );
    }
    if (ready && facts?.rolledBackAt && !facts.migrated)
      lines.push(`Rolled back at ${formatTime(facts.rolledBackAt)}: the legacy schema is in place.`);
    const message = lines.length ? lines.join(' ') : undefined;
    if (this.view.message !== message) this.view.message = message;
  }

  private onCheckbox(e: vscode.TreeCheckboxChangeEvent<Node>): void {
    for (const [node, state] of e.items) {
      if (node.kind !== 'manual') continue;
      if (state === vscode.TreeItemCheckboxState.Checked) {
        void this.host.tick(node.item);
      } else {
        void vscode.window.showInformationMessage(
          'A tick is part of the audit record (who and when) and stays: it cannot be undone from here.',
        );
        this.refresh();
      }
    }
  }
}
