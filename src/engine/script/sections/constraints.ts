// NOT NULL, the foreign key to the orgs table and the org index, each without a long lock.
import { quoteIdent as qi, quoteLiteral as ql, quoteQualified as qq, type QualifiedName } from '../../db/sql';
import type { MigrationModel, TableModel } from '../../model';
import { names, regclass } from '../../names';
import { orgByRule } from './assignments';
import { displayName } from '../../db/sql';
import { doBlock, named, patientLockTimeout, patiently } from './common';
import { partitionedConstraints, partitionedIndexes } from './partitions';
import { keptByUser } from './state';

type Resolved = Required<QualifiedName>;

const conExists = (table: Resolved, name: string, extra = '') =>
  `EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = ${regclass(table)} AND conname = ${ql(name)}${extra})`;
export const orgNotNull = (m: MigrationModel, table: Resolved) =>
  `(SELECT attnotnull FROM pg_attribute WHERE attrelid = ${regclass(table)} AND attname = ${ql(m.orgColumn)})`;

/**
 * A validated CHECK (org IS NOT NULL) on `target`, the table that holds the rows of `t` (itself, or one of its leaf
 * partitions), so that SET NOT NULL needs no scan under its ACCESS EXCLUSIVE lock.
 */
export function notNullCheck(m: MigrationModel, t: TableModel, target: Resolved): string[] {
  const table = qq(target);
  const org = qi(m.orgColumn);
  const check = names.notNullCheck(target, m.orgColumn);
  return [
    named(
      `add CHECK (${m.orgColumn} IS NOT NULL) NOT VALID`,
      displayName(target),
      doBlock(`  IF NOT ${orgNotNull(m, target)} AND NOT ${conExists(target, check)} THEN
    ALTER TABLE ${table} ADD CONSTRAINT ${qi(check)} CHECK (${org} IS NOT NULL) NOT VALID;
  END IF;`),
    ),
    // VALIDATE takes SHARE UPDATE EXCLUSIVE, which blocks no writer while it waits: it may wait long enough to
    // cancel an autovacuum. A row still without an org here was inserted by an application transaction that
    // committed after the backfill passed its page; ADD CONSTRAINT waited for every such transaction, and the
    // check holds for every row written since, so one sweep makes the check valid.
    named(
      `validate the CHECK (${m.orgColumn} IS NOT NULL)`,
      displayName(target),
      doBlock(`  IF ${conExists(target, check, ' AND NOT convalidated')} AND NOT ${keptByUser(target, check)} THEN
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
    ),
  ];
}

/** SET NOT NULL on `table` (proven by the checks on `checked`, which it recurses into), then those checks dropped. */
export function setNotNull(m: MigrationModel, table: Resolved, checked: readonly Resolved[]): string[] {
  const drops = checked.map((c) => {
    const check = names.notNullCheck(c, m.orgColumn);
    return `  IF ${conExists(c, check)} AND NOT ${keptByUser(c, check)} THEN
    ALTER TABLE ${qq(c)} DROP CONSTRAINT ${qi(check)};
  END IF;`;
  });
  return [
    named(
      `SET NOT NULL on ${m.orgColumn} (proven by the CHECK), then drop the CHECK`,
      displayName(table),
      doBlock(`  IF NOT ${orgNotNull(m, table)} THEN
    ALTER TABLE ${qq(table)} ALTER COLUMN ${qi(m.orgColumn)} SET NOT NULL;
  END IF;
${drops.join('\n')}`),
    ),
  ];
}

/** The foreign key to the orgs table on `table`: NOT VALID, then validated under a lock that blocks no writer. */
export function orgForeignKey(m: MigrationModel, table: Resolved): string[] {
  const fkey = names.foreignKey(table, m.orgColumn);
  const reference = `${m.orgColumn} → ${displayName(m.orgs.name)}`;
  return [
    named(
      `add foreign key ${reference} (NOT VALID)`,
      displayName(table),
      doBlock(`  IF NOT ${conExists(table, fkey)} THEN
    ALTER TABLE ${qq(table)} ADD CONSTRAINT ${qi(fkey)} FOREIGN KEY (${qi(m.orgColumn)}) REFERENCES ${qq(m.orgs.name)} (${qi(m.orgs.idColumn)}) NOT VALID;
  END IF;`),
    ),
    named(
      `validate foreign key ${reference}`,
      displayName(table),
      doBlock(`  IF ${conExists(table, fkey, ' AND NOT convalidated')} AND NOT ${keptByUser(table, fkey)} THEN
    SET LOCAL lock_timeout = ${patientLockTimeout(m)};
    ALTER TABLE ${qq(table)} VALIDATE CONSTRAINT ${qi(fkey)};
  END IF;`),
    ),
  ];
}

/**
 * The foreign key added valid at once: on a partitioned table whose partitions have it validated, it attaches theirs.
 * Attaching drops each partition's own triggers on the orgs table, which takes ACCESS EXCLUSIVE on it, besides SHARE ROW
 * EXCLUSIVE on the table and its partitions. An application transaction may hold either while it asks for the other
 * (an insert's foreign-key check holds the orgs table): so both are taken NOWAIT, retried after a short jittered pause,
 * never waited for while one is held. This statement can then not deadlock with the application; after about a second
 * without both it fails with lock_not_available, which the runner retries (under psql -f: run the script again).
 */
export function attachedForeignKey(m: MigrationModel, table: Resolved): string[] {
  const fkey = names.foreignKey(table, m.orgColumn);
  return [
    named(
      `add foreign key ${m.orgColumn} → ${displayName(m.orgs.name)}, attaching the partitions' validated ones`,
      displayName(table),
      doBlock(
        `  IF NOT ${conExists(table, fkey)} THEN
    LOOP
      BEGIN
        LOCK TABLE ${qq(table)} IN SHARE ROW EXCLUSIVE MODE NOWAIT;
        LOCK TABLE ${qq(m.orgs.name)} IN ACCESS EXCLUSIVE MODE NOWAIT;
        EXIT;
      EXCEPTION WHEN lock_not_available THEN
        attempts := attempts + 1;
        IF attempts >= 50 THEN RAISE; END IF;
        PERFORM pg_sleep(0.01 + random() * 0.02);
      END;
    END LOOP;
    ALTER TABLE ${qq(table)} ADD CONSTRAINT ${qi(fkey)} FOREIGN KEY (${qi(m.orgColumn)}) REFERENCES ${qq(m.orgs.name)} (${qi(m.orgs.idColumn)});
  END IF;`,
        ['attempts int := 0'],
      ),
    ),
  ];
}

/** NOT NULL through a validated CHECK, the foreign key NOT VALID then validated: no long ACCESS EXCLUSIVE lock. */
export function tableConstraints(m: MigrationModel, t: TableModel): string[] {
  return t.info.partitionTree
    ? partitionedConstraints(m, t)
    : [...notNullCheck(m, t, t.name), ...setNotNull(m, t.name, [t.name]), ...orgForeignKey(m, t.name)];
}

/** The org index on `table`, CONCURRENTLY; an index left INVALID by an interrupted build is dropped first (IF NOT EXISTS would skip it). */
export function concurrentIndex(m: MigrationModel, table: Resolved): string[] {
  const index = names.index(table, m.orgColumn);
  const qualified = qq({ schema: table.schema, name: index });
  return [
    named(
      'drop the org index if an interrupted build left it invalid',
      displayName(table),
      doBlock(`  IF EXISTS (SELECT 1 FROM pg_index WHERE indexrelid = to_regclass(${ql(qualified)}) AND NOT indisvalid) AND NOT ${keptByUser(table, index)} THEN
    DROP INDEX ${qualified};
  END IF;`),
    ),
    ...patiently(
      m,
      named(
        `build the index on ${m.orgColumn} CONCURRENTLY`,
        displayName(table),
        `CREATE INDEX CONCURRENTLY IF NOT EXISTS ${qi(index)} ON ${qq(table)} (${qi(m.orgColumn)});`,
      ),
    ),
    // A build that timed out leaves an INVALID index, which a retried IF NOT EXISTS would skip.
    named(
      'refuse an org index left invalid',
      displayName(table),
      doBlock(`  IF EXISTS (SELECT 1 FROM pg_index WHERE indexrelid = to_regclass(${ql(qualified)}) AND NOT indisvalid) THEN
    RAISE EXCEPTION 'tenant-migration: the index % was left invalid by an interrupted build', ${ql(qualified)}
      USING HINT = 'Run again: the invalid index is dropped and built again (a long transaction may have held it up: see pg_stat_activity).';
  END IF;`),
    ),
  ];
}

/** Indexes CONCURRENTLY (a partitioned table's: per leaf partition, then attached). */
export function tableIndexes(m: MigrationModel, t: TableModel): string[] {
  return t.info.partitionTree ? partitionedIndexes(m, t) : concurrentIndex(m, t.name);
}
