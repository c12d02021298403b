// Every context key the extension sets, in one place; package.json's `when` clauses use these names.
import * as vscode from 'vscode';

export const CONTEXT_KEYS = {
  /** The workspace has the spec file (tenant-migration.json or the tenantMigration.specFile setting). */
  hasSpec: 'tenantMigration.hasSpec',
  /** A connection is selected (a profile, or DATABASE_URL from the environment). */
  hasConnection: 'tenantMigration.hasConnection',
  /** A migration operation is running in this window. */
  running: 'tenantMigration.running',
  /** The active editor is a SQL file that gets the SQL editor's CodeLens (tenantMigration.sqlEditor.files). */
  sqlFile: 'tenantMigration.sqlFile',
  /** A statement from the SQL editor is running. */
  statementRunning: 'tenantMigration.statementRunning',
} as const;

export type ContextKey = keyof typeof CONTEXT_KEYS;

export class ContextKeys {
  private readonly values = new Map<ContextKey, boolean>();

  set(key: ContextKey, value: boolean): void {
    if (this.values.get(key) === value) return;
    this.values.set(key, value);
    void vscode.commands.executeCommand('setContext', CONTEXT_KEYS[key], value);
  }

  get(key: ContextKey): boolean {
    return this.values.get(key) ?? false;
  }
}
