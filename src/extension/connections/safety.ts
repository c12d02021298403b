// Before a writing step on a production connection: a warning when this exact script (by sha256) has no successful
// rehearsal on a non-production connection, then the operator types the database name. Rehearsals are recorded in
// this machine's globalState.
import * as vscode from 'vscode';
import type { Connection } from './connections';

const REHEARSALS = 'tenantMigration.rehearsals';
const KEEP = 100;

export interface Rehearsal {
  readonly checksum: string;
  readonly connection: string;
  readonly database: string;
  readonly at: string;
}

export interface WriteRequest {
  readonly connection: Connection;
  /** "Run", "Back up", … */
  readonly action: string;
  readonly database: string;
  /** The script's sha256: warn when it has no rehearsal. None for a single statement from the SQL editor. */
  readonly checksum?: string;
  /** Manual prerequisites nobody has ticked yet (shown in the confirmation). */
  readonly openManualItems: readonly string[];
}

export class ProductionGuard {
  constructor(private readonly globalState: vscode.Memento) {}

  rehearsals(): readonly Rehearsal[] {
    return this.globalState.get<Rehearsal[]>(REHEARSALS, []);
  }

  rehearsalOf(checksum: string): Rehearsal | undefined {
    return this.rehearsals().find((r) => r.checksum === checksum);
  }

  async recordRehearsal(connection: Connection, checksum: string): Promise<void> {
    if (connection.production) return;
    const entry: Rehearsal = { checksum, connection: connection.name, database: connection.description, at: new Date().toISOString() };
    await this.globalState.update(REHEARSALS, [entry, ...this.rehearsals().filter((r) => r.checksum !== checksum)].slice(0, KEEP));
  }

  /** True when the write may go ahead. Always true for a non-production connection. */
  async confirm(request: WriteRequest): Promise<boolean> {
    if (!request.connection.production) return true;
    if (request.checksum && !this.rehearsalOf(request.checksum)) {
      const proceed = 'Continue Without Rehearsal';
      const answer = await vscode.window.showWarningMessage(
        `This script (sha256 ${request.checksum.slice(0, 12)}…) has no successful rehearsal on a non-production connection.`,
        { modal: true, detail: 'Rehearse the same script on a staging copy of the database first: the run there is recorded on this machine, and this warning goes away for this script.' },
        proceed);
      if (answer !== proceed) return false;
    }
    const open = request.openManualItems.length ? ` Not ticked yet: ${request.openManualItems.join('; ')}.` : '';
    const typed = await vscode.window.showInputBox({
      title: `Production: ${request.action} on ${request.connection.name}`,
      prompt: `Type the database name "${request.database}" to confirm.${open}`,
      placeHolder: request.database,
      ignoreFocusOut: true,
      validateInput: (value) => (value === request.database || value === '' ? undefined : `Type "${request.database}" exactly, or press Escape to cancel.`),
    });
    return typed === request.database;
  }
}
