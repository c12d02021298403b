// One PostgreSQL session (a single pg.Client): the migration needs session state (advisory lock, settings).
import pg from 'pg';
import {
  assertSessionCapable,
  clientConfig,
  connectionFailure,
  describeTarget,
  parseConnectionUrl,
  sslAttempts,
  type ConnectionTarget,
  type SessionOptions,
} from './connection-options';
import { registerSecret } from '../redact';

export interface Notice {
  readonly severity: string;
  readonly message: string;
}

export class Session {
  private noticeListeners = new Set<(notice: Notice) => void>();
  private closed = false;

  private constructor(
    private readonly client: pg.Client,
    readonly target: ConnectionTarget,
    readonly pid: number,
    private readonly options: SessionOptions,
  ) {
    client.on('notice', (n) => {
      const notice = { severity: n.severity ?? 'NOTICE', message: n.message ?? '' };
      for (const listener of this.noticeListeners) listener(notice);
    });
  }

  static async open(urlOrTarget: string | ConnectionTarget, options: SessionOptions = {}): Promise<Session> {
    const target = typeof urlOrTarget === 'string' ? parseConnectionUrl(urlOrTarget) : urlOrTarget;
    if (target.password) registerSecret(target.password);
    assertSessionCapable(target);
    let lastError: unknown;
    for (const ssl of sslAttempts(target.sslMode)) {
      const client = new pg.Client(clientConfig(target, options, ssl));
      client.on('error', () => {
        /* a dead connection surfaces as the next query's error */
      });
      try {
        await client.connect();
        // node-postgres sends statement_timeout only when it is not 0: set it here, or the role's or database's own
        // statement_timeout would cancel the tool's reads while they wait for a lock the application holds.
        const { rows } = await client.query<{ pid: number }>(
          `SELECT pg_backend_pid() AS pid, set_config('statement_timeout', $1, false)`,
          [String(options.statementTimeoutMs ?? 0)],
        );
        return new Session(client, target, rows[0]!.pid, options);
      } catch (error) {
        lastError = error;
        // The connect error is the one reported (below); ending a client that never connected can only fail the same way.
        await client.end().catch(() => undefined);
      }
    }
    throw connectionFailure(lastError, target);
  }

  get description(): string {
    return describeTarget(this.target);
  }

  onNotice(listener: (notice: Notice) => void): () => void {
    this.noticeListeners.add(listener);
    return () => this.noticeListeners.delete(listener);
  }

  async query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    text: string,
    values?: unknown[],
  ): Promise<pg.QueryResult<R>> {
    return this.client.query<R>(text, values);
  }

  /** Runs fn in a transaction; rolls back on error. */
  async transaction<T>(fn: () => Promise<T>, mode = ''): Promise<T> {
    await this.client.query(`BEGIN ${mode}`);
    try {
      const result = await fn();
      await this.client.query('COMMIT');
      return result;
    } catch (error) {
      // The error that ended the transaction is rethrown; a ROLLBACK that fails too means the connection is gone,
      // which the next query reports.
      await this.client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  }

  /**
   * Runs fn in a read-only transaction (one snapshot): whatever it runs, a function that writes fails there. What
   * read-only does not stop is in SECURITY.md (COPY … TO PROGRAM as a superuser, dblink to another session).
   */
  async reading<T>(fn: () => Promise<T>): Promise<T> {
    return this.transaction(fn, 'ISOLATION LEVEL REPEATABLE READ READ ONLY');
  }

  /** Another session to the same server as the same user, for work done side by side. */
  async sibling(applicationName: string): Promise<Session> {
    return Session.open(this.target, { ...this.options, applicationName });
  }

  /**
   * `count` siblings opened at once: those that opened, and the first error of those that did not (the caller decides
   * whether fewer will do; it closes the ones it got either way).
   */
  async siblings(applicationName: string, count: number): Promise<{ sessions: Session[]; failure?: unknown }> {
    const opened = await Promise.allSettled(Array.from({ length: count }, () => this.sibling(applicationName)));
    const failed = opened.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    return {
      sessions: opened.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : [])),
      ...(failed ? { failure: failed.reason } : {}),
    };
  }

  /** Asks the server to cancel this session's running statement (from a second, short-lived connection). */
  async cancel(): Promise<void> {
    const helper = await this.sibling('tenant-migration cancel');
    try {
      await helper.query('SELECT pg_cancel_backend($1)', [this.pid]);
    } finally {
      await helper.close();
    }
  }

  get isClosed(): boolean {
    return this.closed;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Closing a connection that is already gone: the server ended the session (and released its locks) with it.
    await this.client.end().catch(() => undefined);
  }
}
