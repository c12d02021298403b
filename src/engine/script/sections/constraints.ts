// NOT NULL, the foreign key to the orgs table and the org index, each without a long lock.
import { quoteIdent as qi, quoteLiteral as ql, quoteQualified as qq } from '../../db/sql';
import type { MigrationModel } from '../../model';
import { names, regclass } from '../../names';
import { orgByRule } from './assignments';
import { doBlock, patientLockTimeout, patiently } from './common';

/** NOT NULL through a validated CHECK, the foreign key NOT VALID then validated: no long ACCESS EXCLUSIVE lock. */
export function constraints(m: MigrationModel): string[] {
  const org = qi(m.orgColumn);
  return m.tables.flatMap((t) => {
    const table = qq(t.name);
    const check = names.notNullCheck(t.name, m.orgColumn);
    const fkey = names.foreignKey(t.name, m.orgColumn);
    const conExists = (name: string, extra = '') => `EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = ${regclass(t.name)} AND conname = ${ql(name)}${extra})`;
    const notNull = `(SELECT attnotnull FROM pg_attribute WHERE attrelid = ${regclass(t.name)} AND attname = ${ql(m.orgColumn)})`;
    return [
      doBlock(`  IF NOT ${notNull} AND NOT ${conExists(check)} THEN
    ALTER TABLE ${table} ADD CONSTRAINT ${qi(check)} CHECK (${org} IS NOT NULL) NOT VALID;
  END IF;`),
      // VALIDATE takes SHARE UPDATE EXCLUSIVE, which blocks no writer while it waits: it may wait long enough to
      // cancel an autovacuum. A row still without an org here was inserted by an application transaction that
      // committed after the backfill passed its page; ADD CONSTRAINT waited for every such transaction, and the
      // check holds for every row written since, so one sweep makes the check valid.
      doBlock(`  IF ${conExists(check, ' AND NOT convalidated')} THEN
    SET LOCAL lock_timeout = ${patientLockTimeout(m)};
    BEGIN
      ALTER TABLE ${table} VALIDATE CONSTRAINT ${qi(check)};
    EXCEPTION WHEN check_violation THEN
      PERFORM set_config('session_replication_role', 'replica', true);
      UPDATE ${table} AS t SET ${org} = ${orgByRule(m, t)} WHERE t.${org} IS NULL;
      PERFORM set_config('session_replication_role', 'origin', true);
      ALTER TABLE ${table} VALIDATE CONSTRAINT ${qi(check)};
    END;
  END IF;`),
      doBlock(`  IF NOT ${notNull} THEN
    ALTER TABLE ${table} ALTER COLUMN ${org} SET NOT NULL;
  END IF;
  IF ${conExists(check)} THEN
    ALTER TABLE ${table} DROP CONSTRAINT ${qi(check)};
  END IF;`),
      doBlock(`  IF NOT ${conExists(fkey)} THEN
    ALTER TABLE ${table} ADD CONSTRAINT ${qi(fkey)} FOREIGN KEY (${org}) REFERENCES ${qq(m.orgs.name)} (${qi(m.orgs.idColumn)}) NOT VALID;
  END IF;`),
      doBlock(`  IF ${conExists(fkey, ' AND NOT convalidated')} THEN
    SET LOCAL lock_timeout = ${patientLockTimeout(m)};
    ALTER TABLE ${table} VALIDATE CONSTRAINT ${qi(fkey)};
  END IF;`),
    ];
  });
}

/** Indexes CONCURRENTLY; an index left INVALID by an interrupted build is dropped first (IF NOT EXISTS would skip it). */
export function indexes(m: MigrationModel): string[] {
  return m.tables.flatMap((t) => {
    const index = names.index(t.name, m.orgColumn);
    const qualified = qq({ schema: t.name.schema, name: index });
    return [
      doBlock(`  IF EXISTS (SELECT 1 FROM pg_index WHERE indexrelid = to_regclass(${ql(qualified)}) AND NOT indisvalid) THEN
    DROP INDEX ${qualified};
  END IF;`),
      ...patiently(m, `CREATE INDEX CONCURRENTLY IF NOT EXISTS ${qi(index)} ON ${qq(t.name)} (${qi(m.orgColumn)});`),
      // A build that timed out leaves an INVALID index, which a retried IF NOT EXISTS would skip.
      doBlock(`  IF EXISTS (SELECT 1 FROM pg_index WHERE indexrelid = to_regclass(${ql(qualified)}) AND NOT indisvalid) THEN
    RAISE EXCEPTION 'tenant-migration: the index % was left invalid by an interrupted build', ${ql(qualified)}
      USING HINT = 'Run again: the invalid index is dropped and built again (a long transaction may have held it up: see pg_stat_activity).';
  END IF;`),
    ];
  });
}

