// PostgreSQL's errors, typed: a guard for what the server sent, the SQLSTATEs the engine acts on by name, and the one
// table that turns a server or connection error into what the user reads and does next.
import { failed, type MigrationError } from '../errors';
import { redact } from '../redact';

/** https://www.postgresql.org/docs/current/errcodes-appendix.html */
export const SQLSTATE = {
  serializationFailure: '40001',
  deadlockDetected: '40P01',
  readOnlySqlTransaction: '25006',
  insufficientPrivilege: '42501',
  uniqueViolation: '23505',
  lockNotAvailable: '55P03',
  queryCanceled: '57014',
  adminShutdown: '57P01',
  crashShutdown: '57P02',
  cannotConnectNow: '57P03',
  invalidAuthorization: '28000',
  invalidPassword: '28P01',
  invalidCatalogName: '3D000',
} as const;
export type SqlState = (typeof SQLSTATE)[keyof typeof SQLSTATE];

/** Class 23: a constraint (foreign key, unique, not null, check) stopped the write. */
export const INTEGRITY_CONSTRAINT_CLASS = '23';

/** An error the server sent (node-postgres' DatabaseError): it has a five-character SQLSTATE. */
export interface PgError extends Error {
  readonly code: string;
  readonly detail?: string;
  readonly hint?: string;
}

export function isPgError(error: unknown): error is PgError {
  if (!(error instanceof Error) || !('code' in error)) return false;
  return typeof error.code === 'string' && /^[0-9A-Z]{5}$/.test(error.code);
}

export function sqlStateOf(error: unknown): string | undefined {
  return isPgError(error) ? error.code : undefined;
}

export function hasSqlState(error: unknown, ...states: SqlState[]): boolean {
  const code = sqlStateOf(error);
  return code !== undefined && (states as string[]).includes(code);
}

/** A lock or serialization conflict that another attempt may not meet. */
export const isRetryable = (error: unknown) =>
  hasSqlState(error, SQLSTATE.lockNotAvailable, SQLSTATE.deadlockDetected, SQLSTATE.serializationFailure);

/** The node's error code of a socket or file error (ECONNRESET, ENOENT…). */
export function systemErrorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && !isPgError(error) ? code : undefined;
}

/**
 * The connection is gone: the server shut it down, the socket reset, or node-postgres ended it (its "Connection
 * terminated" errors carry no code, so they are known by their message).
 */
export function isConnectionLost(error: unknown): boolean {
  if (hasSqlState(error, SQLSTATE.adminShutdown, SQLSTATE.crashShutdown, SQLSTATE.cannotConnectNow)) return true;
  const system = systemErrorCode(error);
  if (system === 'ECONNRESET' || system === 'EPIPE') return true;
  return (
    error instanceof Error &&
    !isPgError(error) &&
    /^(Connection terminated|Client has encountered a connection error)/.test(error.message)
  );
}

/** The server's message with its hint, redacted. */
export function describePgError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const hint = isPgError(error) && error.hint ? ` (hint: ${error.hint})` : '';
  return redact(`${message}${hint}`);
}

interface Translation {
  readonly applies: (error: unknown) => boolean;
  readonly translate: (message: string) => MigrationError;
}

/** The one translation table; the first that applies wins. */
const TRANSLATIONS: readonly Translation[] = [
  {
    // With row_security off, a query that RLS would filter fails with insufficient_privilege and this message.
    applies: (e) =>
      hasSqlState(e, SQLSTATE.insufficientPrivilege) &&
      /would be affected by row-level security/.test((e as Error).message),
    translate: (m) =>
      failed(
        `The tool's own query would be filtered by row-level security (${m})`,
        "Run as the tables' owner with BYPASSRLS or as a superuser (Supabase: the postgres role), so that counts and backups see every row.",
      ),
  },
  {
    applies: (e) => hasSqlState(e, SQLSTATE.readOnlySqlTransaction),
    translate: (m) =>
      failed(
        `The session is read-only (${m})`,
        'Connect to the primary server as a user that can write (default_transaction_read_only off).',
      ),
  },
  {
    applies: (e) => hasSqlState(e, SQLSTATE.insufficientPrivilege),
    translate: (m) =>
      failed(
        `Permission denied: ${m}`,
        'Run as the owner of the tables (Supabase: the postgres role), or GRANT the privilege named.',
      ),
  },
  {
    applies: (e) => hasSqlState(e, SQLSTATE.lockNotAvailable),
    translate: (m) =>
      failed(
        `A lock could not be obtained in time (${m})`,
        'Another session holds a conflicting lock: find it in pg_stat_activity / pg_locks, let it finish or stop it, then run again.',
      ),
  },
  {
    applies: isConnectionLost,
    translate: () =>
      failed('The database connection was lost', 'Run the same command again: every step resumes where it stopped.'),
  },
];

/** What the user reads for a server or connection error, or undefined when the table has no entry for it. */
export function translatePgError(error: unknown): MigrationError | undefined {
  const entry = TRANSLATIONS.find((t) => t.applies(error));
  return entry?.translate(redact(error instanceof Error ? error.message : String(error)));
}
