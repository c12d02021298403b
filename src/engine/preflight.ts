// Step 0: connection, server, privileges, objects, mapping gaps and conflicts, space, active sessions.
import type { Session } from './db/session';
import { displayName, quoteIdent, quoteQualified } from './db/sql';
import type { CheckResult } from './events';
import type { GapReport } from './gaps';
import type { MigrationModel } from './model';
import { failed } from './errors';
import { partitionPrerequisites } from './partition-checks';
import { keyLabel } from './key-columns';
import { partitionOwners } from './shapes/partition-owner';
import { findShapes, shapeChecks } from './shapes';
import { plural } from '../shared/format';
import { diskCheck } from './disk-check';
import { estimateDisk, type FreeSpaceReader } from './disk-estimate';
import { bad, ok } from './check-results';

export async function preflight(
  session: Session,
  model: MigrationModel,
  findGaps: () => Promise<GapReport>,
  readFreeSpace?: FreeSpaceReader,
): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  const server = (
    await session.query<{
      v: number;
      version: string;
      recovery: boolean;
      readonly: string;
      superuser: boolean;
      bypass: boolean;
      user: string;
    }>(
      `SELECT current_setting('server_version_num')::int AS v, current_setting('server_version') AS version, pg_is_in_recovery() AS recovery,
            current_setting('transaction_read_only') AS readonly, r.rolsuper AS superuser, r.rolbypassrls AS bypass, current_user AS user
       FROM pg_roles r WHERE r.rolname = current_user`,
    )
  ).rows[0]!;
  results.push(ok('Connection', `${session.description} (PostgreSQL ${server.version})`));
  results.push(
    server.v >= 140000
      ? ok('Server version', `${server.version} (14 or later needed)`)
      : bad(
          'Server version',
          `${server.version}: PostgreSQL 14 or later is needed (CREATE OR REPLACE TRIGGER, TID range scans)`,
        ),
  );
  if (server.recovery)
    results.push(bad('Primary server', 'the server is a standby in recovery: connect to the primary'));
  else if (server.readonly === 'on')
    results.push(
      bad('Writable session', 'default_transaction_read_only is on for this user: use a user that can write'),
    );
  else results.push(ok('Primary server', 'writable primary'));
  results.push(
    server.superuser || server.bypass
      ? ok(
          'Bypasses row-level security',
          `${server.user} ${server.superuser ? 'is a superuser' : 'has BYPASSRLS'}: the tool's own counts are never filtered`,
        )
      : bad(
          'Bypasses row-level security',
          `${server.user} is neither superuser nor BYPASSRLS: validation counts and backups could be filtered by policies. Run as the tables' owner with BYPASSRLS (Supabase: postgres)`,
        ),
  );
  for (const t of model.tables) {
    const owner = (
      await session.query<{ ok: boolean }>(`SELECT pg_has_role(current_user, $1, 'USAGE') AS ok`, [t.info.owner])
    ).rows[0]!.ok;
    results.push(
      owner
        ? ok(`Owner of ${displayName(t.name)}`, `owned by ${t.info.owner}`)
        : bad(
            `Owner of ${displayName(t.name)}`,
            `owned by ${t.info.owner}; ${server.user} must own it (or be a member of ${t.info.owner}) to alter it`,
          ),
    );
  }
  results.push(...(await partitionPrerequisites(session, model)));
  const replica = await canUseReplicaMode(session);
  results.push(
    replica
      ? ok('Backfill without firing triggers', `${server.user} may set session_replication_role`)
      : bad(
          'Backfill without firing triggers',
          `${server.user} may not set session_replication_role, which the backfill uses so that the tables' own triggers (updated_at …) do not fire: run as a superuser or Supabase's postgres role, or GRANT SET ON PARAMETER session_replication_role TO ${server.user} (PostgreSQL 15+)`,
        ),
  );
  const create = (
    await session.query<{ ok: boolean }>(`SELECT has_database_privilege(current_database(), 'CREATE') AS ok`)
  ).rows[0]!.ok;
  results.push(
    create
      ? ok('Can create the state schema', 'CREATE on the database')
      : bad('Can create the state schema', `${server.user} lacks CREATE on the database (for schema tenant_migration)`),
  );
  const defaultOrg =
    (
      await session.query(
        `SELECT 1 FROM ${quoteQualified(model.orgs.name)} WHERE ${quoteIdent(model.orgs.idColumn)} = $1::text::${model.orgType}`,
        [model.defaultOrgId],
      )
    ).rows.length > 0;
  results.push(
    defaultOrg
      ? ok('Default org exists', model.defaultOrgId)
      : bad(
          'Default org exists',
          `${model.defaultOrgId} is not in ${displayName(model.orgs.name)}: insert it or change defaultOrgId`,
        ),
  );
  results.push(...shapeChecks(await findShapes(session, model)));
  if (!server.superuser && !server.bypass) {
    results.push(
      bad('Mapping conflicts', 'not checked: the counts would be filtered by row-level security for this user'),
    );
    return results;
  }
  const blocking = (await findGaps()).findings.filter((f) => f.blocking);
  results.push(
    blocking.length === 0
      ? ok('Mapping conflicts', 'no key maps to two orgs or to a missing org')
      : bad(
          'Mapping conflicts',
          blocking
            .map(
              (f) =>
                `${f.table}: ${f.message} (e.g. ${f.samples.map((s) => (s.detail ? `${s.key} ${s.detail}` : s.key)).join('; ')})`,
            )
            .join(' | '),
        ),
  );
  if (model.mapping) results.push(await mappingIndexCheck(session, model));
  results.push(diskCheck(await estimateDisk(session, model, readFreeSpace)));
  const { rows } = await session.query<{ n: string }>(
    `SELECT count(*)::text AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend' AND application_name NOT LIKE 'tenant-migration%'`,
  );
  const sessions = Number(rows[0]!.n);
  results.push(
    sessions === 0
      ? ok('Maintenance window', 'no other sessions on this database')
      : bad(
          'Maintenance window',
          `${plural(sessions, 'other session is', 'other sessions are')} connected: the migration is safe under traffic, but check this is the window you announced`,
          'warning',
        ),
  );
  return results;
}

/** The checks a writing command cannot do without, before it writes its own state: refuses with what to do. */
export async function assertWritableSession(session: Session, model: MigrationModel): Promise<void> {
  const { rows } = await session.query<{ recovery: boolean; readonly: string; create: boolean; user: string }>(
    `SELECT pg_is_in_recovery() AS recovery, current_setting('transaction_read_only') AS readonly,
            has_database_privilege(current_database(), 'CREATE') OR to_regnamespace('tenant_migration') IS NOT NULL AS create, current_user AS user`,
  );
  const s = rows[0]!;
  if (s.recovery)
    throw failed(
      `${session.target.host}:${session.target.port} is a standby in recovery: it cannot be migrated`,
      'Connect to the primary server.',
    );
  if (s.readonly === 'on')
    throw failed(
      `The session of ${s.user} is read-only (default_transaction_read_only is on)`,
      'Connect as a user that can write, to the primary server.',
    );
  if (!s.create)
    throw failed(
      `${s.user} may not create the state schema tenant_migration in ${session.target.database}`,
      `Run as the owner of the tables (Supabase: postgres), or GRANT CREATE ON DATABASE ${session.target.database} TO ${s.user}.`,
    );
  for (const t of model.tables) {
    const owner = (
      await session.query<{ ok: boolean }>(`SELECT pg_has_role(current_user, $1, 'USAGE') AS ok`, [t.info.owner])
    ).rows[0]!.ok;
    if (!owner)
      throw failed(
        `${s.user} does not own ${displayName(t.name)} (owned by ${t.info.owner}), so it cannot add the org column`,
        `Run as ${t.info.owner} or a member of it.`,
      );
  }
  const [notOwned] = await partitionOwners(session, model);
  if (notOwned) throw failed(notOwned.message, `Nothing was changed. ${notOwned.fix}`);
}

async function canUseReplicaMode(session: Session): Promise<boolean> {
  return session
    .transaction(async () => {
      await session.query(`SELECT set_config('session_replication_role', 'replica', true)`);
      return true;
    })
    .catch(() => false);
}

/** Until finalize, the org trigger looks up each new row's key in the mapping: without an index that is a scan per insert. */
async function mappingIndexCheck(session: Session, model: MigrationModel): Promise<CheckResult> {
  const mapping = model.mapping!;
  const mapped = model.tables.filter((t) => t.rule.kind === 'mapping').map((t) => displayName(t.name));
  const { rows } = await session.query<{ indexed: boolean; rows: number }>(
    `SELECT EXISTS (SELECT 1 FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
                     WHERE i.indrelid = $1::regclass AND a.attname = $2 AND i.indisvalid AND i.indpred IS NULL) AS indexed,
            (SELECT reltuples::float8 FROM pg_class WHERE oid = $1::regclass) AS rows`,
    [quoteQualified(mapping.name), mapping.keyColumns[0]],
  );
  // An index led by the key's first column narrows a composite key's lookup to a few rows.
  const key = keyLabel(mapping.keyColumns);
  const name = `Index on the mapping's ${key}`;
  if (rows[0]!.indexed) return ok(name, `${displayName(mapping.name)} is indexed on ${mapping.keyColumns[0]}`);
  return bad(
    name,
    `${displayName(mapping.name)}${rows[0]!.rows >= 0 ? ` (about ${plural(rows[0]!.rows, 'row')})` : ''} has no index on ${key}: until finalize, every row the application inserts into ${mapped.join(', ')} scans it. ` +
      `Create one first: CREATE INDEX CONCURRENTLY ON ${quoteQualified(mapping.name)} (${mapping.keyColumns.map(quoteIdent).join(', ')});`,
    'warning',
  );
}
