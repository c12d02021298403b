// The tenant ledger of credentials.
import { displayName, quoteIdent as qi, quoteLiteral as ql, quoteQualified as qq } from '../../db/sql';
import type { MigrationModel } from '../../model';
import { LEDGER_TRIGGER, names, regclass } from '../../names';
import { doBlock, named, patientLockTimeout, revokeFromOthers } from './common';
import { definerFunction } from './definer';
import { pairKey } from '../../key-columns';
import { heapTablesOf } from './partitions';

/**
 * Credentials per batch of the ledger's fill, about. Each batch commits, so the fill never holds one snapshot for long:
 * the VACUUMs of the backfill running beside it on another session free what the batches before them left dead.
 */
export const LEDGER_BATCH_ROWS = 50_000;

/**
 * The ledger's fill: each heap of the credentials (the table, or each leaf partition) in ranges of pages, in physical
 * order whatever the key (a uuid key in key order would read the heap at random), each range committed; then the
 * credentials a concurrent update moved onto a page already read, in one pass that adds what is still missing.
 */
function fill(m: MigrationModel, source: string): string[] {
  const { from, keyColumn } = m.ledger!;
  const insert = (table: string, where: string) => `INSERT INTO ${qq(m.ledger!.name)} (credential_id, org_id, source)
SELECT c.${qi(keyColumn)}, c.${qi(m.orgColumn)}, ${source} FROM ${table} AS c
WHERE ${where}
ON CONFLICT (credential_id) DO NOTHING;`;
  const heaps = heapTablesOf(from).map((heap) =>
    named(
      'fill the ledger from the credentials, in committed batches of pages',
      displayName(heap),
      doBlock(
        `  SELECT greatest(1, ceil(${LEDGER_BATCH_ROWS} / greatest(c.reltuples / greatest(c.relpages, 1), 1)))::bigint,
         pg_relation_size(c.oid) / current_setting('block_size')::int
    INTO pages_per_batch, last_page FROM pg_class c WHERE c.oid = ${regclass(heap)};
  WHILE page <= last_page LOOP
    ${insert(qq(heap), `c.ctid >= format('(%s,0)', page)::tid AND c.ctid < format('(%s,0)', page + pages_per_batch)::tid`).replace(/\n/g, '\n    ')}
    COMMIT;
    page := page + pages_per_batch;
  END LOOP;`,
        ['page bigint := 0', 'last_page bigint', 'pages_per_batch bigint'],
      ),
    ),
  );
  return [
    ...heaps,
    named(
      'add the credentials a concurrent update moved onto a page the fill had read',
      displayName(m.ledger!.name),
      insert(
        qq(from.name),
        `NOT EXISTS (SELECT 1 FROM ${qq(m.ledger!.name)} AS l WHERE l.credential_id = c.${qi(keyColumn)})`,
      ),
    ),
  ];
}

/** The tenant ledger: one row per credential, its org and where that came from; kept in sync by a trigger. */
export function ledger(m: MigrationModel): string[] {
  if (!m.ledger) return [];
  const { from, keyColumn, keyType } = m.ledger;
  const ledgerTable = qq(m.ledger.name);
  const fn = names.ledgerFunction(from.name);
  const org = qi(m.orgColumn);
  // A probe of the assignments' key per credential: a join would scan all the assignments again in every batch.
  const source =
    from.rule.kind === 'parent'
      ? `'parent'`
      : `CASE WHEN EXISTS (SELECT 1 FROM ${qq(names.assignTable(from.name))} AS a WHERE a.key = ${pairKey(from.rule.columns, 'c')}) THEN ${ql(from.rule.kind)} ELSE 'default' END`;
  const credFk = names.foreignKey(m.ledger.name, 'credential_id');
  const orgFk = names.foreignKey(m.ledger.name, 'org_id');
  const conExists = (name: string, extra = '') =>
    `EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = ${regclass(m.ledger!.name)} AND conname = ${ql(name)}${extra})`;
  const on = displayName(m.ledger.name);
  return [
    named(
      'create the ledger table',
      on,
      `CREATE TABLE IF NOT EXISTS ${ledgerTable} (
  credential_id ${keyType} PRIMARY KEY,
  org_id ${m.orgType} NOT NULL,
  source text NOT NULL,
  assigned_at timestamptz NOT NULL DEFAULT now()
);`,
    ),
    // The ledger is readable by exactly the roles that can read the credentials (row-level security scopes it to the
    // org): whatever the default privileges granted, those grants and no others.
    named(
      'grant the ledger to the roles that read the credentials, and to no other',
      on,
      doBlock(
        `  ${revokeFromOthers('TABLE', ql(ledgerTable))}
  FOR grant_row IN SELECT pg_get_userbyid(a.grantee) AS role, a.privilege_type FROM pg_class c, aclexplode(c.relacl) a
      WHERE c.oid = ${regclass(from.name)} AND a.grantee <> 0 AND a.grantee <> c.relowner AND a.privilege_type IN ('SELECT', 'INSERT', 'UPDATE', 'DELETE') LOOP
    EXECUTE format('GRANT %s ON %s TO %I', grant_row.privilege_type, ${regclass(m.ledger.name)}, grant_row.role);
  END LOOP;`,
        ['grant_row record', 'grantee oid'],
      ),
    ),
    named(
      'create the function that keeps the ledger in sync',
      on,
      definerFunction(
        fn,
        `
BEGIN
  IF NEW.${org} IS NULL THEN RETURN NULL; END IF;
  INSERT INTO ${ledgerTable} AS l (credential_id, org_id, source) VALUES (NEW.${qi(keyColumn)}, NEW.${org}, 'live')
  ON CONFLICT (credential_id) DO UPDATE SET org_id = EXCLUDED.org_id, source = 'live', assigned_at = now()
  WHERE l.org_id IS DISTINCT FROM EXCLUDED.org_id;
  RETURN NULL;
END
`,
        { writes: [m.ledger.name] },
      ),
    ),
    named(
      'create the trigger that keeps the ledger in sync',
      displayName(from.name),
      `CREATE OR REPLACE TRIGGER ${qi(LEDGER_TRIGGER)} AFTER INSERT OR UPDATE OF ${org} ON ${qq(from.name)} FOR EACH ROW EXECUTE FUNCTION ${qq(fn)}();`,
    ),
    ...fill(m, source),
    named(
      "add the ledger's foreign keys (NOT VALID)",
      on,
      doBlock(`  -- The application locks ${qq(from.name)} before the ledger (the sync trigger): take them in that order too.
  LOCK TABLE ${qq(from.name)} IN SHARE ROW EXCLUSIVE MODE;
  IF NOT ${conExists(credFk)} THEN
    ALTER TABLE ${ledgerTable} ADD CONSTRAINT ${qi(credFk)} FOREIGN KEY (credential_id) REFERENCES ${qq(from.name)} (${qi(keyColumn)}) ON DELETE CASCADE NOT VALID;
  END IF;
  IF NOT ${conExists(orgFk)} THEN
    ALTER TABLE ${ledgerTable} ADD CONSTRAINT ${qi(orgFk)} FOREIGN KEY (org_id) REFERENCES ${qq(m.orgs.name)} (${qi(m.orgs.idColumn)}) NOT VALID;
  END IF;`),
    ),
    named(
      'delete the ledger rows whose credential is gone',
      on,
      `DELETE FROM ${ledgerTable} AS l WHERE NOT EXISTS (SELECT 1 FROM ${qq(from.name)} AS c WHERE c.${qi(keyColumn)} = l.credential_id);`,
    ),
    named(
      "validate the ledger's foreign keys",
      on,
      doBlock(`  SET LOCAL lock_timeout = ${patientLockTimeout(m)};
  IF ${conExists(credFk, ' AND NOT convalidated')} THEN
    ALTER TABLE ${ledgerTable} VALIDATE CONSTRAINT ${qi(credFk)};
  END IF;
  IF ${conExists(orgFk, ' AND NOT convalidated')} THEN
    ALTER TABLE ${ledgerTable} VALIDATE CONSTRAINT ${qi(orgFk)};
  END IF;`),
    ),
  ];
}
