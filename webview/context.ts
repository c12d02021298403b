// What every part of the view needs: a typed way to ask the host for an action, and the view state VS Code keeps
// for us while the panel is hidden (retainContextWhenHidden is off, so the page is rebuilt when shown again).
import type { WebviewMessage } from '../src/shared/protocol';

export interface ViewState {
  /** Phase ids the operator opened. */
  readonly openPhases: readonly string[];
  /** Statement indexes whose full SQL is shown. */
  readonly expandedSql: readonly number[];
}

export interface ViewContext {
  send(message: WebviewMessage): void;
  readonly state: ViewStateStore;
}

export class ViewStateStore {
  private value: ViewState;
  constructor(private readonly api: VsCodeWebviewApi<ViewState>) {
    const saved = api.getState();
    this.value = {
      openPhases: Array.isArray(saved?.openPhases) ? saved.openPhases.filter((x) => typeof x === 'string') : [],
      expandedSql: Array.isArray(saved?.expandedSql) ? saved.expandedSql.filter((x) => typeof x === 'number') : [],
    };
  }

  isOpen(phaseId: string): boolean {
    return this.value.openPhases.includes(phaseId);
  }
  isExpanded(statement: number): boolean {
    return this.value.expandedSql.includes(statement);
  }

  setOpen(phaseId: string, open: boolean): void {
    const rest = this.value.openPhases.filter((id) => id !== phaseId);
    this.save({ ...this.value, openPhases: open ? [...rest, phaseId] : rest });
  }

  setExpanded(statement: number, expanded: boolean): void {
    const rest = this.value.expandedSql.filter((i) => i !== statement);
    this.save({ ...this.value, expandedSql: expanded ? [...rest, statement] : rest });
  }

  private save(value: ViewState): void {
    this.value = value;
    this.api.setState(value);
  }
}
