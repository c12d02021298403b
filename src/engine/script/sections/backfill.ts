// The backfill in committed, time-sized batches.
import {
  displayName,
  dollarQuote,
  quoteIdent as qi,
  quoteLiteral as ql,
  quoteQualified as qq,
  type QualifiedName,
} from '../../db/sql';
import type { MigrationModel, TableModel } from '../../model';
import { PROGRESS_PREFIX, names, regclass } from '../../names';
import { orgByRule } from './assignments';
import { doBlock, named, orgValue, patiently } from './common';
import { partitionsOf } from './partitions';
import { isLeaf } from '../../partitions';
import { parentMatch } from '../../key-columns';

/**
 * Vacuum between groups of batches so that the space of the row versions a group leaves dead is reused by the next
 * group's (an UPDATE writes a new version of every row): without it every new version goes to the end of the table,
 * which doubles. A table of B bytes gets min(MAX_GROUPS, ceil(B / MIN_GROUP_BYTES)) groups of equal page ranges, so it
 * grows by about one group; the boundaries are fractions of the pages the backfill found, so a table that grew since
 * the script was written is still covered (the last group goes to its end).
 */
export const BACKFILL_GROUPS = { minGroupBytes: 1024 * 1024, maxGroups: 10 };

export function backfillGroups(bytes: number, limits = BACKFILL_GROUPS): number {
  return Math.max(1, Math.min(limits.maxGroups, Math.ceil(bytes / limits.minGroupBytes)));
}

/**
 * A leaf partition gets the groups its whole partitioned table would get in one piece, so that the table grows by the
 * same fraction (each heap grows by about one of its groups): sized by the partition alone, the partitions of a
 * mid-sized table would each get few groups and grow by a larger fraction. Groups stay at least minGroupBytes / maxGroups.
 */
export function partitionGroups(tableBytes: number, partitionBytes: number, limits = BACKFILL_GROUPS): number {
  const smallest = limits.minGroupBytes / limits.maxGroups;
  return Math.max(1, Math.min(backfillGroups(tableBytes, limits), Math.ceil(partitionBytes / smallest)));
}

/**
 * Backfill in batches of heap pages, each committed: short row locks, resumable where it stopped. Each batch is
 * sized by time (batchTargetMs, at most twice the last), so it holds its row locks that long whatever a row costs.
 * The batches run in groups (backfillGroups), each one DO block, with a VACUUM between them that frees the dead
 * versions' space for the next group (without index cleanup: a heap pass only); then the indexes are rebuilt and the
 * last VACUUM cleans what is left.
 * Each table is vacuumed (and analysed) after the backfill (heapRebuild, after every table's groups) and before its
 * ACCESS EXCLUSIVE statements: otherwise an autovacuum of its dead rows would be in their way (stalling the application
 * queued behind them); the VACUUM waits patiently, which cancels an autovacuum already running.
 * VACUUM cannot run inside a DO block or a transaction: that is why the groups are separate statements.
 * This is the backfill of one heap of `t`, the table itself or one of its leaf partitions (a partitioned table has no
 * pages of its own; its partitions run in lanes of their own).
 */
export function heapBackfill(
  m: MigrationModel,
  t: TableModel,
  tableIndex: number,
  heap: Required<QualifiedName>,
  limits = BACKFILL_GROUPS,
): string[] {
  const spec = m.loaded.spec;
  const groups = groupsOf(t, heap, limits);
  const table = qq(heap);
  const org = qi(m.orgColumn);
  const range = `t.ctid >= format('(%s,0)', page)::tid AND t.ctid < format('(%s,0)', batch_end)::tid AND t.${org} IS NULL`;
  let assign: string;
  if (t.rule.kind === 'parent' && t.rule.parentMigrated) {
    // Two statements: a child whose parent still waits for its org must stay NULL, not get the default.
    const match = parentMatch(t.rule, 'p', 't');
    assign = `    UPDATE ${table} AS t SET ${org} = p.${org} FROM ${qq(t.rule.parent)} AS p
     WHERE ${range} AND ${match} AND p.${org} IS NOT NULL;
    GET DIAGNOSTICS n = ROW_COUNT; done := done + n;
    UPDATE ${table} AS t SET ${org} = ${orgValue(m)}
     WHERE ${range} AND NOT EXISTS (SELECT 1 FROM ${qq(t.rule.parent)} AS p WHERE ${match});`;
  } else {
    assign = `    UPDATE ${table} AS t SET ${org} = ${orgByRule(m, t)}
     WHERE ${range};`;
  }
  const where = `table_schema = ${ql(heap.schema)} AND table_name = ${ql(heap.name)}`;
  // The batch size reached, carried by the session from one group (and partition) of the table to the next, so
  // that each group does not start again from the first batch's size.
  const carried = ql(`tenant_migration.batch_rows_${tableIndex}`);
  const body = (group: number) => `DECLARE
  page bigint;
  last_page bigint;
  stop_page bigint;
  batch_end bigint;
  done bigint;
  done_before bigint;
  n bigint;
  estimate float8;
  rows_per_page float8;
  pages_per_batch int;
  max_pages int;
  batch_started timestamptz;
  batch_ms float8;
BEGIN
  INSERT INTO ${names.state('backfill')} (table_schema, table_name, next_page, last_page)
  VALUES (${ql(heap.schema)}, ${ql(heap.name)}, 0, pg_relation_size(${regclass(heap)}) / current_setting('block_size')::int)
  ON CONFLICT (table_schema, table_name) DO NOTHING;
  SELECT b.next_page, b.last_page, b.rows_done INTO page, last_page, done FROM ${names.state('backfill')} AS b WHERE ${where} AND b.completed_at IS NULL;
  IF NOT FOUND THEN RETURN; END IF;
  done_before := done;
  stop_page := ${group === groups ? 'last_page' : `(last_page + 1) * ${group} / ${groups} - 1`};  -- group ${group} of ${groups}
  IF page > stop_page THEN
    -- A run stopped after its last batch committed and before the mark below: nothing is left to do but the mark.
    IF page > last_page THEN UPDATE ${names.state('backfill')} SET completed_at = now() WHERE ${where}; END IF;
    RETURN;
  END IF;
  SELECT reltuples INTO estimate FROM pg_class WHERE oid = ${regclass(heap)};
  IF estimate < 0 THEN  -- never analysed: counted, so that the batches are sized and the progress is true
    SELECT count(*) INTO estimate FROM ${table};
  END IF;
  rows_per_page := greatest(estimate / greatest(last_page, 1), 1);
  pages_per_batch := greatest(1, ceil(${spec.batchSize} / rows_per_page))::int;
  max_pages := 4 * pages_per_batch;
  pages_per_batch := least(max_pages, greatest(pages_per_batch, ceil(coalesce(nullif(current_setting(${carried}, true), '')::float8, 0) / rows_per_page)))::int;
  COMMIT;
  WHILE page <= stop_page LOOP
    batch_started := clock_timestamp();
    batch_end := least(page + pages_per_batch, stop_page + 1);  -- a group ends where it says: the VACUUM after it frees its pages
    -- Replica mode for this batch's transaction: the table's own triggers (updated_at and the like) must not fire,
    -- so that the backfill changes nothing but the org column.
    PERFORM set_config('session_replication_role', 'replica', true);
${assign}
    GET DIAGNOSTICS n = ROW_COUNT; done := done + n;
    page := batch_end;
    UPDATE ${names.state('backfill')} SET next_page = page, rows_done = done WHERE ${where};
    COMMIT;
    RAISE NOTICE '${PROGRESS_PREFIX}%', json_build_object('action', 'backfill', 'table', ${ql(displayName(heap))}, 'pagesDone', least(page, last_page + 1), 'pagesTotal', last_page + 1, 'rowsDone', done, 'rowsBefore', done_before, 'rowsEstimate', estimate::bigint);
    batch_ms := 1000 * extract(epoch FROM clock_timestamp() - batch_started);
    -- At most twice the last batch, and at most four first batches: cheap pages (deleted or already assigned rows) must
    -- not grow a batch that the next dense pages would make long.
    pages_per_batch := greatest(1, least(max_pages, 2 * pages_per_batch, floor(pages_per_batch::float8 * ${spec.batchTargetMs} / greatest(batch_ms, 1))))::int;
    PERFORM set_config(${carried}, (pages_per_batch * rows_per_page)::text, false);
  END LOOP;
  IF page > last_page THEN
    UPDATE ${names.state('backfill')} SET completed_at = now() WHERE ${where};
  END IF;
END
`;
  return [
    ...Array.from({ length: groups }, (_, i) => i + 1).flatMap((group) => [
      named(
        groups > 1
          ? `backfill ${m.orgColumn} in batches (group ${group} of ${groups})`
          : `backfill ${m.orgColumn} in batches`,
        displayName(heap),
        `DO ${dollarQuote(`\n${body(group)}`)};`,
      ),
      ...(group < groups
        ? patiently(
            m,
            named(
              'VACUUM between groups of batches, so the next group reuses the space',
              displayName(heap),
              `VACUUM (INDEX_CLEANUP OFF) ${table};`,
            ),
          )
        : []),
    ]),
  ];
}

/**
 * After the table's groups: its indexes rebuilt and a last VACUUM (ANALYZE), before any statement that takes an
 * ACCESS EXCLUSIVE lock on it (an autovacuum of the backfill's dead rows would be in its way). The script runs them
 * after every table's groups, so that a child's backfill, which waits for its parent's, does not wait for these too.
 */
export function heapRebuild(m: MigrationModel, heap: Required<QualifiedName>): string[] {
  return [
    ...rebuiltIndexes(m, heap),
    ...patiently(m, named('VACUUM ANALYZE after the backfill', displayName(heap), `VACUUM (ANALYZE) ${qq(heap)};`)),
  ];
}

/**
 * The table's indexes rebuilt CONCURRENTLY after its backfill: every updated row left a second entry in each index
 * (the VACUUMs free the heap's space, not the index pages that split), which doubles them. An index that an
 * interrupted REINDEX left invalid (named …_ccnew or …_ccold, still updated by every write) is dropped first; the
 * exclusion-constraint indexes REINDEX cannot rebuild concurrently it skips with a warning.
 */
function rebuiltIndexes(m: MigrationModel, heap: { schema: string; name: string }): string[] {
  return [
    dropInvalidLeftovers(heap, 'drop an index an interrupted REINDEX CONCURRENTLY left invalid'),
    ...patiently(
      m,
      named(
        'rebuild the indexes the backfill grew, without blocking writes',
        displayName(heap),
        `REINDEX TABLE CONCURRENTLY ${qq(heap)};`,
      ),
    ),
    // A REINDEX that timed out waiting for a lock (the runner retries it) left its new copies behind, invalid.
    dropInvalidLeftovers(heap, 'drop an index a retried REINDEX CONCURRENTLY left invalid'),
  ];
}

function dropInvalidLeftovers(heap: { schema: string; name: string }, does: string): string {
  // The table's own indexes and its TOAST table's (REINDEX TABLE rebuilds both, and a stop can leave either behind).
  const leftovers = `SELECT i.indexrelid::regclass FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
     WHERE i.indrelid IN (${regclass(heap)}, (SELECT t.reltoastrelid FROM pg_class t WHERE t.oid = ${regclass(heap)}))
       AND NOT i.indisvalid AND c.relname ~ '_cc(new|old)[0-9]*$'`;
  return named(
    does,
    displayName(heap),
    doBlock(
      `  FOR leftover IN ${leftovers} LOOP
    RAISE NOTICE 'tenant-migration: dropping %, left invalid by an interrupted REINDEX CONCURRENTLY', leftover;
    BEGIN
      EXECUTE format('DROP INDEX %s', leftover);
    EXCEPTION WHEN insufficient_privilege THEN
      -- Only a superuser may drop an index of a TOAST table (its schema is pg_toast): say so, and go on.
      RAISE WARNING 'tenant-migration: % is left invalid by an interrupted REINDEX CONCURRENTLY and only a superuser can drop it', leftover
        USING HINT = format('Ask a superuser to run: DROP INDEX %s; (it costs every write to the table until then)', leftover);
    END;
  END LOOP;`,
      ['leftover regclass'],
    ),
  );
}

/** The groups of one heap of `t` (the table itself, or one of its leaf partitions), from the sizes the model read. */
function groupsOf(t: TableModel, heap: { schema: string; name: string }, limits: typeof BACKFILL_GROUPS): number {
  if (!t.info.partitionTree) return backfillGroups(t.info.totalBytes, limits);
  const leaves = partitionsOf(t).filter(isLeaf);
  const bytes = leaves.find((p) => p.name.schema === heap.schema && p.name.name === heap.name)?.totalBytes ?? 0;
  return partitionGroups(
    leaves.reduce((sum, p) => sum + p.totalBytes, 0),
    bytes,
    limits,
  );
}
