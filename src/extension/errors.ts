// Showing a failure to the user: what went wrong, what to do next, and a way to the log. Never swallowed.
import * as vscode from 'vscode';
import type { ExtensionLog } from './log';
import { UntrustedWorkspaceError } from './trust';

/** A failure the user can act on, with buttons that run commands. */
export class ActionableError extends Error {
  constructor(
    message: string,
    readonly next: string,
    readonly actions: readonly { title: string; command: string; args?: unknown[] }[] = [],
  ) {
    super(message);
  }
}

export function errorText(error: unknown): { message: string; next?: string } {
  const e = error as { message?: string; next?: unknown };
  return { message: e?.message ?? String(error), next: typeof e?.next === 'string' && e.next ? e.next : undefined };
}

/** Logs the failure and shows it with what to do next (without waiting for the notification to be dismissed). */
export function showError(log: ExtensionLog, error: unknown, context?: string): void {
  const { message, next } = errorText(error);
  const text = log.scrub(`${context ? `${context}: ` : ''}${message}${next ? ` — ${next}` : ''}`);
  log.error(text);
  const actions = error instanceof ActionableError ? [...error.actions] : [];
  if (error instanceof UntrustedWorkspaceError)
    actions.push({ title: 'Manage Workspace Trust', command: 'workbench.trust.manage' });
  actions.push({ title: 'Show Log', command: 'tenantMigration.showLog' });
  void vscode.window
    .showErrorMessage(text, ...actions.map((a) => a.title))
    .then((picked) => {
      const action = actions.find((a) => a.title === picked);
      if (action) return vscode.commands.executeCommand(action.command, ...(action.args ?? []));
      return undefined;
    })
    .then(undefined, (e: unknown) => log.error(`The action failed: ${errorText(e).message}`));
}
