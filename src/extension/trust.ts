// Workspace Trust: in an untrusted workspace nothing connects to a database or runs anything (the spec's `query`
// and test commands are code from the workspace).
import * as vscode from 'vscode';

export class UntrustedWorkspaceError extends Error {
  readonly next = 'Trust this workspace (Workspaces: Manage Workspace Trust) to connect and run the migration.';
  constructor(action: string) {
    super(
      `${action} is not available in an untrusted workspace: Tenant Migration connects to databases and runs the workspace's script and test commands.`,
    );
  }
}

export function assertTrusted(action: string): void {
  if (!vscode.workspace.isTrusted) throw new UntrustedWorkspaceError(action);
}
