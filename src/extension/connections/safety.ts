// Before a write: on a production connection, a warning when this exact script (by sha256) has no successful rehearsal
// on a non-production connection, then the operator types the database name; on any other connection, a modal naming
// the database, host and connection, with "don't ask again for this connection". Rehearsals and the connections not
// to ask about again are recorded in this machine's globalState (never in settings).
import * as vscode from 'vscode';
import type { Connection } from './connections';
import { askModal } from '../modal';

const REHEARSALS = 'tenantMigration.rehearsals';
const KEEP = 100;
/** Non-production connections (connectionKey) whose writes go ahead without the confirmation. */
const UNCONFIRMED = 'tenantMigration.writesWithoutConfirmation';

/** A connection's identity on this machine: a profile by its name, or the environment's DATABASE_URL. */
export const connectionKey = (c: Connection): string => `${c.kind}:${c.name}`;

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
  /** The operator has just answered a modal naming the target (the unticked items' "Run Anyway"). */
  readonly targetNamed?: boolean;
}

export const CONTINUE = 'Continue';
export const CONTINUE_ALWAYS = "Continue, Don't Ask Again for This Connection";

/** "Run on tm_app (postgres@db.example:5432/tm_app, connection "staging")" */
export function describeWrite(request: Pick<WriteRequest, 'action' | 'connection' | 'database'>): string {
  return `${request.action} on ${request.database} (${request.connection.description}, connection "${request.connection.name}")`;
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
    const entry: Rehearsal = {
      checksum,
      connection: connection.name,
      database: connection.description,
      at: new Date().toISOString(),
    };
    await this.globalState.update(
      REHEARSALS,
      [entry, ...this.rehearsals().filter((r) => r.checksum !== checksum)].slice(0, KEEP),
    );
  }

  /** True when the write may go ahead. */
  async confirm(request: WriteRequest): Promise<boolean> {
    if (!request.connection.production) return this.confirmNonProduction(request);
    if (request.checksum && !this.rehearsalOf(request.checksum)) {
      const proceed = 'Continue Without Rehearsal';
      const answer = await askModal(
        `This script (sha256 ${request.checksum.slice(0, 12)}…) has no successful rehearsal on a non-production connection.`,
        'Rehearse the same script on a staging copy of the database first: the run there is recorded on this machine, and this warning goes away for this script.',
        proceed,
      );
      if (answer !== proceed) return false;
    }
    const open = request.openManualItems.length ? ` Not ticked yet: ${request.openManualItems.join('; ')}.` : '';
    const typed = await vscode.window.showInputBox({
      title: `Production: ${request.action} on ${request.connection.name}`,
      prompt: `Type the database name "${request.database}" to confirm.${open}`,
      placeHolder: request.database,
      ignoreFocusOut: true,
      validateInput: (value) =>
        value === request.database || value === ''
          ? undefined
          : `Type "${request.database}" exactly, or press Escape to cancel.`,
    });
    return typed === request.database;
  }

  /** A modal naming the target, unless the operator said not to ask again for this connection. */
  private async confirmNonProduction(request: WriteRequest): Promise<boolean> {
    const key = connectionKey(request.connection);
    const unasked = this.globalState.get<string[]>(UNCONFIRMED, []);
    if (request.targetNamed || unasked.includes(key)) return true;
    const answer = await askModal(
      `${describeWrite(request)}?`,
      'This changes the database. "Don\'t ask again" applies to this connection on this machine (a production connection always asks); "Ask Again Before Writes on Every Connection" undoes it.',
      CONTINUE,
      CONTINUE_ALWAYS,
    );
    if (answer === CONTINUE_ALWAYS) await this.globalState.update(UNCONFIRMED, [...unasked, key]);
    return answer === CONTINUE || answer === CONTINUE_ALWAYS;
  }

  /** Every connection asks before a write again. */
  async forgetUnconfirmed(): Promise<void> {
    await this.globalState.update(UNCONFIRMED, undefined);
  }
}
