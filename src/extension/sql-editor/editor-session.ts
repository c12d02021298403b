// The SQL editor's one database session for the selected connection: opened on the first run (asking for a password
// when needed), reused, closed when the connection changes or the extension goes. Statements run one at a time on
// it; Cancel asks the server to stop the running one (pg_cancel_backend from a second connection). An idle session
// is closed after a while, so that it does not sit among the sessions a maintenance window counts.
import * as vscode from 'vscode';
import type { Session } from '../../engine/db/session';
import type { LintCatalog } from '../../engine/sql-editor/lint/catalog';
import type { Connection, ConnectionService } from '../connections/connections';
import type { EngineLoader } from '../engine';
import { ActionableError } from '../errors';
import { Disposable } from '../lifecycle';
import type { ExtensionLog } from '../log';
import type { MigrationOpener } from '../run/open-migration';
import { assertTrusted } from '../trust';

const IDLE_MS = 120_000;

export class EditorSession extends Disposable {
  private open?: { connection: string; session: Promise<Session> };
  private idle?: ReturnType<typeof setTimeout>;
  private queue: Promise<unknown> = Promise.resolve();
  private running?: Session;

  constructor(
    private readonly engines: EngineLoader,
    private readonly connections: ConnectionService,
    private readonly opener: MigrationOpener,
    private readonly log: ExtensionLog,
  ) {
    super();
    this.register(connections.onDidChange(() => void this.close()));
    this.register({
      dispose: () => {
        clearTimeout(this.idle);
        void this.close();
      },
    });
  }

  /** The selected connection, or an error that says how to get one. Refused in an untrusted workspace. */
  connection(action: string): Connection {
    assertTrusted(action);
    const connection = this.connections.selected();
    if (!connection) {
      throw new ActionableError(
        'No database connection is selected',
        'Add a connection, or select one, then run the statement again.',
        [
          { title: 'Add Connection', command: 'tenantMigration.addConnection' },
          { title: 'Select Connection', command: 'tenantMigration.selectConnection' },
        ],
      );
    }
    return connection;
  }

  /** Runs fn on the session, after whatever runs now (one statement at a time). */
  use<T>(action: string, interactive: boolean, fn: (session: Session) => Promise<T>): Promise<T> {
    const connection = this.connection(action);
    const next = this.queue.then(async () => {
      clearTimeout(this.idle);
      const session = await this.sessionFor(connection, interactive);
      this.running = session;
      try {
        return await fn(session);
      } finally {
        this.running = undefined;
        this.idle = setTimeout(() => void this.close(), IDLE_MS);
      }
    });
    // The caller gets `next`'s failure; the queue only keeps the order.
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Stops the running statement on the server. */
  async cancel(): Promise<boolean> {
    const session = this.running;
    if (!session) return false;
    this.log.warn(`SQL editor: cancelling the running statement (backend ${session.pid})`);
    await session.cancel();
    return true;
  }

  get isRunning(): boolean {
    return !!this.running;
  }

  private async sessionFor(connection: Connection, interactive: boolean): Promise<Session> {
    if (this.open?.connection === connection.name) {
      // A session that failed to open was reported to whoever opened it: open another.
      const session = await this.open.session.catch(() => undefined);
      if (session && !session.isClosed) return session;
    }
    const engine = this.engines.get();
    const opening = this.opener.withPassword(connection, interactive, async (resolved) => {
      this.log.info(
        `SQL editor: connecting to ${connection.description} ("${connection.name}"${connection.production ? ', a production database' : ''})`,
      );
      return engine.Session.open(resolved.target, {
        applicationName: 'tenant-migration sql editor',
        connectTimeoutMs: 10_000,
      });
    });
    this.open = { connection: connection.name, session: opening };
    try {
      return await opening;
    } catch (error) {
      this.open = undefined;
      throw error;
    }
  }

  /** Table sizes, partitions, RLS and validated checks from the catalog, for the lint (a short-lived session); undefined without a connection. */
  async lintCatalog(): Promise<LintCatalog | undefined> {
    const connection = this.connections.selected();
    if (!vscode.workspace.isTrusted || !connection) return undefined;
    const engine = this.engines.get();
    return this.opener.withPassword(connection, false, async (resolved) => {
      const session = await engine.Session.open(resolved.target, {
        applicationName: 'tenant-migration sql editor',
        connectTimeoutMs: 10_000,
      });
      try {
        return await engine.readLintCatalog(session);
      } finally {
        await session.close();
      }
    });
  }

  private async close(): Promise<void> {
    const open = this.open;
    this.open = undefined;
    // A session that never opened has nothing to close (its failure went to whoever opened it).
    const session = await open?.session.catch(() => undefined);
    await session?.close();
  }
}
