// Step 4: the guide's validation queries plus derived checks. Every count runs with row_security off: never filtered.
import type { Session } from './db/session';
import { displayName, quoteIdent as qi, quoteQualified as qq } from './db/sql';
import type { CheckResult } from './events';
import { findTable } from './introspect';
import type { MigrationModel, TableModel } from './model';
import { DEFINER_ROLE, ISOLATION_POLICY, STATE_SCHEMA } from './names';
import { SnapshotLanes } from './db/snapshot-lanes';
import { BackupValidation } from './validate-backups';
import { bad, ok, type Pending } from './check-results';
import { partitionCoverageChecks } from './partition-checks';
import { currentEnforcement } from './enforce';
import { parentMatch } from './key-columns';
import { plural } from '../shared/format';

const count = async (session: Session, sql: string, values?: unknown[]) =>
  Number((await session.query<{ n: string }>(sql, values)).rows[0]!.n);

/** Sessions validation reads on at most (this one and two siblings, in its snapshot): its scans are independent. */
const VALIDATE_SESSIONS = 3;

async function tableChecks(
  session: Session,
  lanes: SnapshotLanes,
  m: MigrationModel,
  t: TableModel,
  enforced: boolean,
): Promise<Pending[]> {
  const label = displayName(t.name);
  const org = qi(m.orgColumn);
  const info = await findTable(session, t.name);
  const column = info?.columns.find((c) => c.name === m.orgColumn);
  if (!info || !column)
    return [
      bad(
        `${label}: ${m.orgColumn} column`,
        `${label} has no ${m.orgColumn} column: the migration has not run (or was rolled back)`,
      ),
    ];
  const results: Pending[] = [
    ok(`${label}: ${m.orgColumn} column`, `${m.orgColumn} ${column.type}${column.notNull ? ' NOT NULL' : ''}`),
  ];
  const proof = await catalogProof(session, m, t);
  // A validated NOT NULL or foreign key is PostgreSQL's own proof over every row: the table is not read again for it.
  const counted = (sql: string) => lanes.run((s) => count(s, sql));
  results.push(
    (proof.notNull
      ? Promise.resolve(0)
      : counted(`SELECT count(*)::text AS n FROM ${qq(t.name)} WHERE ${org} IS NULL`)
    ).then((nulls) =>
      nulls === 0
        ? ok(`${label}: no NULL ${m.orgColumn}`, proof.notNull ? '0 rows (NOT NULL holds for every row)' : '0 rows')
        : bad(`${label}: no NULL ${m.orgColumn}`, `${plural(nulls, 'row has', 'rows have')} no org`),
    ),
  );
  results.push(
    column.notNull ? ok(`${label}: NOT NULL`, 'set') : bad(`${label}: NOT NULL`, `${m.orgColumn} is still nullable`),
  );
  results.push(
    (proof.foreignKey
      ? Promise.resolve(0)
      : counted(
          `SELECT count(*)::text AS n FROM ${qq(t.name)} r WHERE r.${org} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM ${qq(m.orgs.name)} o WHERE o.${qi(m.orgs.idColumn)} = r.${org})`,
        )
    ).then((orphans) =>
      orphans === 0
        ? ok(
            `${label}: every org exists`,
            proof.foreignKey
              ? `every org_id references an org (validated foreign key ${proof.foreignKey})`
              : 'every org_id references an org',
          )
        : bad(`${label}: every org exists`, `${plural(orphans, 'row references', 'rows reference')} a missing org`),
    ),
  );
  if (t.rule.kind === 'parent') {
    const parent = t.rule.parent;
    results.push(
      counted(
        `SELECT count(*)::text AS n FROM ${qq(t.name)} c JOIN ${qq(parent)} p ON ${parentMatch(t.rule, 'p', 'c')} WHERE p.${org} IS NOT NULL AND c.${org} IS DISTINCT FROM p.${org}`,
      ).then((mismatched) =>
        mismatched === 0
          ? ok(`${label}: same org as parent`, `every row has its ${displayName(parent)} row's org`)
          : bad(
              `${label}: same org as parent`,
              `${plural(mismatched, 'row differs', 'rows differ')} from their parent's org`,
            ),
      ),
    );
  }
  // FORCE waits for the enforce step: until then the owner keeps its access (many applications connect as the owner).
  results.push(
    info.rlsEnabled && (info.rlsForced || !enforced)
      ? ok(
          `${label}: row-level security`,
          info.rlsForced ? 'enabled and forced' : 'enabled; not forced until "enforce" (transition mode)',
        )
      : bad(
          `${label}: row-level security`,
          `enabled: ${info.rlsEnabled}, forced: ${info.rlsForced}${enforced ? ' (isolation is enforced: it must be forced)' : ''}`,
        ),
  );
  results.push(
    info.policies.some((p) => p.name === ISOLATION_POLICY)
      ? ok(`${label}: isolation policy`, ISOLATION_POLICY)
      : bad(`${label}: isolation policy`, `policy ${ISOLATION_POLICY} is missing`),
  );
  return results;
}

/**
 * What the catalog proves about the org column without reading the table: NOT NULL set and valid (PostgreSQL 18 can
 * hold a NOT VALID one), and the name of a validated foreign key from it to the orgs' id (none: the rows are counted).
 */
async function catalogProof(
  session: Session,
  m: MigrationModel,
  t: TableModel,
): Promise<{ notNull: boolean; foreignKey?: string }> {
  const { rows } = await session.query<{ not_null: boolean; fk: string | null }>(
    `SELECT a.attnotnull AND NOT EXISTS (SELECT 1 FROM pg_constraint n WHERE n.conrelid = a.attrelid AND n.contype = 'n' AND NOT n.convalidated AND n.conkey = ARRAY[a.attnum]) AS not_null,
            (SELECT f.conname::text FROM pg_constraint f
              WHERE f.conrelid = a.attrelid AND f.contype = 'f' AND f.convalidated AND f.conkey = ARRAY[a.attnum] AND f.confrelid = $3::regclass
                AND f.confkey = ARRAY[(SELECT o.attnum FROM pg_attribute o WHERE o.attrelid = $3::regclass AND o.attname = $4)] LIMIT 1) AS fk
       FROM pg_attribute a WHERE a.attrelid = $1::regclass AND a.attname = $2 AND NOT a.attisdropped`,
    [qq(t.name), m.orgColumn, qq(m.orgs.name), m.orgs.idColumn],
  );
  return { notNull: rows[0]?.not_null === true, foreignKey: rows[0]?.fk ?? undefined };
}

async function ledgerChecks(session: Session, lanes: SnapshotLanes, m: MigrationModel): Promise<Pending[]> {
  if (!m.ledger) return [];
  const ledger = qq(m.ledger.name);
  const label = displayName(m.ledger.name);
  const info = await findTable(session, m.ledger.name);
  if (!info) return [bad(`${label}: exists`, `${label} does not exist`)];
  const from = m.ledger.from;
  const key = qi(m.ledger.keyColumn);
  // One join answers both: credentials without a ledger row, and ledger rows whose org is not their credential's.
  const counted = lanes.run(async (s) => {
    const row = (
      await s.query<{ missing: string; differing: string }>(
        `SELECT count(*) FILTER (WHERE l.credential_id IS NULL)::text AS missing,
                count(*) FILTER (WHERE l.credential_id IS NOT NULL AND l.org_id IS DISTINCT FROM c.${qi(m.orgColumn)})::text AS differing
           FROM ${qq(from.name)} c LEFT JOIN ${ledger} l ON l.credential_id = c.${key}`,
      )
    ).rows[0]!;
    return { missing: Number(row.missing), differing: Number(row.differing) };
  });
  const perOrg = lanes.run(async (s) => {
    const { rows } = await s.query<{ org_id: string; n: string }>(
      `SELECT org_id::text, count(*)::text AS n FROM ${ledger} GROUP BY org_id ORDER BY count(*) DESC`,
    );
    return rows.map((r) => `${r.org_id}: ${r.n}`).join(', ');
  });
  return [
    Promise.all([counted, perOrg]).then(([{ missing }, orgs]) =>
      missing === 0
        ? ok(`${label}: one row per credential`, `per org: ${orgs}`)
        : bad(
            `${label}: one row per credential`,
            `${plural(missing, 'credential has', 'credentials have')} no ledger row`,
          ),
    ),
    counted.then(({ differing }) =>
      differing === 0
        ? ok(`${label}: org matches the credential`, 'ledger and credentials agree')
        : bad(
            `${label}: org matches the credential`,
            `${plural(differing, 'ledger row disagrees', 'ledger rows disagree')} with their credential's org`,
          ),
    ),
    info.rlsEnabled && info.rlsForced
      ? ok(`${label}: row-level security`, 'enabled and forced')
      : bad(`${label}: row-level security`, 'not enabled and forced'),
  ];
}

/** No role but the state schema's owner (and the triggers' role, for its lookups) may read or write anything in it. */
async function stateSchemaPrivate(session: Session): Promise<CheckResult> {
  const { rows } = await session.query<{ who: string }>(
    `SELECT DISTINCT format('%s (%s on %s)', CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END, a.privilege_type, o.name) AS who
       FROM (SELECT c.relname::text AS name, c.relowner AS owner, c.relacl AS acl FROM pg_class c WHERE c.relnamespace = $1::regnamespace
             UNION ALL SELECT p.proname::text, p.proowner, p.proacl FROM pg_proc p WHERE p.pronamespace = $1::regnamespace
             UNION ALL SELECT 'the schema', n.nspowner, n.nspacl FROM pg_namespace n WHERE n.oid = $1::regnamespace) AS o,
            aclexplode(o.acl) AS a
      WHERE a.grantee <> o.owner AND a.grantee <> (SELECT nspowner FROM pg_namespace WHERE oid = $1::regnamespace)
        AND a.grantee IS DISTINCT FROM to_regrole(${DEFINER_ROLE})
        -- the orgs known at migration time, which the transition policy reads as every requesting role (ids only; no
        -- role has USAGE on the schema to name it in a query of its own)
        AND NOT (o.name = 'transition_orgs' AND a.grantee = 0 AND a.privilege_type = 'SELECT')
      ORDER BY 1 LIMIT 10`,
    [STATE_SCHEMA],
  );
  const name = `No other role can read or write ${STATE_SCHEMA}`;
  return rows.length === 0
    ? ok(name, 'only its owner has privileges on the schema and its objects')
    : bad(
        name,
        `granted: ${rows.map((r) => r.who).join(', ')}: REVOKE them (they can read the backups or change the assignments)`,
      );
}

/**
 * Every check reads in one read-only transaction (the spec's query it re-runs cannot write): the catalog on this
 * session, the scans side by side on it and two siblings in its snapshot, so every answer is of the same moment.
 */
export async function validate(session: Session, model: MigrationModel): Promise<CheckResult[]> {
  return session.reading(async () => {
    const lanes = await SnapshotLanes.open(session, VALIDATE_SESSIONS);
    const results = await validateReading(session, lanes, model);
    // Handled here, before a scan can fail: Promise.allSettled below reads them after every lane is done.
    for (const r of results) if (r instanceof Promise) r.catch(() => undefined);
    // A scan that failed rejects its check; the others still finish before the first failure is reported.
    await lanes.drain();
    const settled = await Promise.allSettled(results);
    const failure = settled.find((r) => r.status === 'rejected');
    if (failure) throw (failure as PromiseRejectedResult).reason;
    return settled.map((r) => (r as PromiseFulfilledResult<CheckResult>).value);
  });
}

/** The catalog's checks at once; the scans are queued on the lanes (nothing here may wait for one). */
async function validateReading(session: Session, lanes: SnapshotLanes, model: MigrationModel): Promise<Pending[]> {
  const results: Pending[] = [];
  const backups = await BackupValidation.read(session, lanes, model);
  const enforced = !!(await currentEnforcement(session));
  for (const t of model.tables) {
    results.push(...(await tableChecks(session, lanes, model, t, enforced)));
    const check = backups.assignmentCheck(t);
    if (check) results.push(check);
  }
  results.push(...(await partitionCoverageChecks(session, model, enforced)));
  results.push(...(await ledgerChecks(session, lanes, model)));
  results.push(...(await backups.checks(session)));
  results.push(await stateSchemaPrivate(session));
  return results;
}
