// Turns a connection URL into node-postgres options, honouring libpq's sslmode; redacts passwords for display.
import fs from 'node:fs';
import { SQLSTATE, sqlStateOf, systemErrorCode } from './pg-errors';
import type { ClientConfig } from 'pg';
import { connectionError, refused, usageError } from '../errors';

export type SslMode = 'disable' | 'allow' | 'prefer' | 'require' | 'verify-ca' | 'verify-full';
const SSL_MODES: readonly SslMode[] = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'];

export interface ConnectionTarget {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
  readonly password?: string;
  readonly sslMode: SslMode;
  readonly sslRootCert?: string;
}

export interface SessionOptions {
  readonly applicationName?: string;
  readonly statementTimeoutMs?: number;
  readonly lockTimeoutMs?: number;
  readonly connectTimeoutMs?: number;
}

export function parseConnectionUrl(url: string): ConnectionTarget {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw usageError(
      'The database URL is not a valid URL',
      'Write it as postgresql://USER@HOST:PORT/DATABASE (the password from PGPASSWORD or the URL).',
    );
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw usageError(
      `The database URL must start with postgresql://, not ${parsed.protocol}//`,
      'Write it as postgresql://USER@HOST:PORT/DATABASE.',
    );
  }
  const sslMode = (parsed.searchParams.get('sslmode') ?? process.env.PGSSLMODE ?? 'prefer') as SslMode;
  if (!SSL_MODES.includes(sslMode))
    throw usageError(`sslmode=${sslMode} is not a libpq sslmode`, `Use one of ${SSL_MODES.join(', ')}.`);
  // decodeURIComponent throws "URI malformed" on a stray %: say which part, never its value (it may be the password).
  const decode = (value: string, part: string) => {
    try {
      return decodeURIComponent(value);
    } catch {
      throw usageError(
        `The database URL's ${part} is not valid percent-encoding`,
        'Percent-encode special characters (a % is written %25), as in postgresql://USER:PASSWORD@HOST:PORT/DATABASE.',
      );
    }
  };
  const host = decode(
    parsed.hostname || parsed.searchParams.get('host') || process.env.PGHOST || 'localhost',
    'host',
  ).replace(/^\[|\]$/g, '');
  const sslRootCert = parsed.searchParams.get('sslrootcert') ?? undefined;
  if (sslRootCert !== undefined && (sslMode === 'verify-ca' || sslMode === 'verify-full')) {
    try {
      fs.accessSync(sslRootCert, fs.constants.R_OK);
    } catch (error) {
      throw usageError(
        `sslrootcert=${sslRootCert} cannot be read (${systemErrorCode(error) ?? 'unreadable'})`,
        `Point sslrootcert at the server's CA certificate file (PEM), which sslmode=${sslMode} needs.`,
      );
    }
  }
  return {
    host,
    port: Number(parsed.port || process.env.PGPORT || 5432),
    database: decode(parsed.pathname.replace(/^\//, ''), 'database name') || process.env.PGDATABASE || 'postgres',
    user: decode(parsed.username, 'user name') || process.env.PGUSER || 'postgres',
    // libpq takes the password from the URL's user info or, as any parameter, from ?password= (percent-decoded, '+' kept).
    password: parsed.password
      ? decode(parsed.password, 'password')
      : (queryParameter(parsed, 'password', decode) ?? process.env.PGPASSWORD),
    sslMode,
    sslRootCert,
  };
}

/** A query parameter as libpq reads it: percent-decoding only (URLSearchParams would turn '+' into a space). */
function queryParameter(url: URL, name: string, decode: (value: string, part: string) => string): string | undefined {
  for (const pair of url.search.replace(/^\?/, '').split('&')) {
    const eq = pair.indexOf('=');
    if (eq > 0 && pair.slice(0, eq) === name) return decode(pair.slice(eq + 1), name);
  }
  return undefined;
}

/** Supabase's transaction pooler (port 6543) breaks session advisory locks and session settings. */
export function assertSessionCapable(target: ConnectionTarget): void {
  if (target.port === 6543 || (/\.pooler\.supabase\.com$/.test(target.host) && target.port !== 5432)) {
    throw refused(
      `${target.host}:${target.port} is a transaction-mode pooler, which breaks the session lock and settings a migration needs`,
      'Use the direct connection (port 5432) or the session-mode pooler.',
    );
  }
}

function sslOptions(target: ConnectionTarget, attemptSsl: boolean): ClientConfig['ssl'] {
  if (!attemptSsl || target.sslMode === 'disable') return false;
  if (target.sslMode === 'verify-ca' || target.sslMode === 'verify-full') {
    const ca = target.sslRootCert ? fs.readFileSync(target.sslRootCert, 'utf8') : undefined;
    return {
      rejectUnauthorized: true,
      ca,
      ...(target.sslMode === 'verify-ca' ? { checkServerIdentity: () => undefined } : {}),
    };
  }
  return { rejectUnauthorized: false };
}

export function clientConfig(target: ConnectionTarget, session: SessionOptions, attemptSsl: boolean): ClientConfig {
  return {
    host: target.host,
    port: target.port,
    database: target.database,
    user: target.user,
    password: target.password,
    ssl: sslOptions(target, attemptSsl),
    application_name: session.applicationName ?? 'tenant-migration',
    connectionTimeoutMillis: session.connectTimeoutMs ?? 10_000,
    statement_timeout: session.statementTimeoutMs ?? 0,
    lock_timeout: session.lockTimeoutMs,
    keepAlive: true,
  };
}

/** The SSL attempts libpq would make for this sslmode, in order. */
export function sslAttempts(mode: SslMode): boolean[] {
  switch (mode) {
    case 'disable':
      return [false];
    case 'allow':
      return [false, true];
    case 'prefer':
      return [true, false];
    default:
      return [true];
  }
}

export function describeTarget(target: ConnectionTarget): string {
  return `${target.user}@${target.host}:${target.port}/${target.database}`;
}

/** Supabase's direct host (db.<project-ref>.supabase.co): it has only an IPv6 address on many plans. */
const SUPABASE_DIRECT = /^db\.([a-z0-9]+)\.supabase\.co$/i;
const UNREACHABLE = new Set([
  'ENOTFOUND',
  'EAI_AGAIN',
  'EAI_NODATA',
  'EAI_NONAME',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
]);

export function connectionFailure(error: unknown, target: ConnectionTarget): Error {
  // Connecting to a host with several addresses fails with an AggregateError: its first error names the cause.
  const aggregate = (error as { errors?: unknown[] } | undefined)?.errors;
  const cause =
    systemErrorCode(error) === undefined && sqlStateOf(error) === undefined && Array.isArray(aggregate) && aggregate[0]
      ? aggregate[0]
      : error;
  const where = describeTarget(target);
  const message = (error instanceof Error && error.message) || (cause instanceof Error ? cause.message : String(cause));
  const code = sqlStateOf(cause) ?? systemErrorCode(cause);
  const supabase = SUPABASE_DIRECT.exec(target.host);
  if (supabase && code && UNREACHABLE.has(code)) {
    return connectionError(
      `${target.host} cannot be reached from this network (${code}): Supabase's direct connection is IPv6-only, and this machine has no IPv6 route to it`,
      `Use Supabase's session pooler, which has IPv4 (dashboard → Connect → Session pooler): postgres://postgres.${supabase[1]}@aws-0-<region>.pooler.supabase.com:5432/postgres — port 5432; the transaction pooler (6543) breaks the session lock a migration needs.`,
    );
  }
  if (/tenant or user not found/i.test(message)) {
    return connectionError(
      `The pooler at ${target.host}:${target.port} does not know the user "${target.user}"`,
      "On Supabase's pooler the user is postgres.<project-ref> (dashboard → Connect → Session pooler shows the whole URL).",
    );
  }
  switch (code) {
    case SQLSTATE.invalidPassword:
      return connectionError(
        `Password authentication failed for ${where}`,
        'Check the user and password (PGPASSWORD, the URL or the stored connection).',
      );
    case SQLSTATE.invalidAuthorization:
      return connectionError(
        `The server refused ${where}: ${message}`,
        'Check pg_hba.conf on the server, the user name, and sslmode.',
      );
    case SQLSTATE.invalidCatalogName:
      return connectionError(
        `Database "${target.database}" does not exist on ${target.host}:${target.port}`,
        'Check the database name in the URL.',
      );
    case 'ECONNREFUSED':
      return connectionError(
        `Nothing accepts connections at ${target.host}:${target.port}`,
        'Check the host and port, and that the server is running.',
      );
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NODATA':
    case 'EAI_NONAME':
      return connectionError(
        `The host ${target.host} cannot be resolved (${code})`,
        "Check the host name in the URL, and that this machine's DNS works (try: getent hosts HOST).",
      );
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EADDRNOTAVAIL':
      return connectionError(
        `${target.host}:${target.port} cannot be reached (${code})`,
        target.host.includes(':')
          ? "The host is an IPv6 address: check that this network routes IPv6, or use the server's IPv4 address or name."
          : 'Check the host and the port, and that a firewall or security group lets this machine reach it.',
      );
    case 'ECONNRESET':
      return connectionError(
        `${target.host}:${target.port} closed the connection while connecting`,
        "Check sslmode (hosted servers such as Supabase need sslmode=require) and that the port is PostgreSQL's.",
      );
    default:
      break;
  }
  if (/does not support SSL/i.test(message))
    return connectionError(
      `${target.host}:${target.port} does not accept SSL, and sslmode=${target.sslMode} requires it`,
      'Enable SSL on the server, or use sslmode=prefer/disable for a local server.',
    );
  if (/no pg_hba.conf entry.*no encryption|SSL.*required|SSL off/i.test(message))
    return connectionError(
      `The server requires SSL and sslmode=${target.sslMode} turned it off`,
      'Use sslmode=require (or verify-full with sslrootcert).',
    );
  if (/timeout/i.test(message))
    return connectionError(
      `Connecting to ${target.host}:${target.port} timed out`,
      'Check the host, the port, and any firewall between.',
    );
  if (/certificate|self.signed|unable to verify/i.test(message))
    return connectionError(
      `The server's certificate was not accepted (${message})`,
      'Pass sslrootcert=PATH for verify-ca/verify-full, or use sslmode=require.',
    );
  return connectionError(
    `Cannot connect to ${where}: ${message}`,
    'Check the host, port, database, user and sslmode in the URL (postgres://USER@HOST:5432/DATABASE?sslmode=require).',
  );
}
