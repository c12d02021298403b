// The backfill in committed, time-sized batches.
import { displayName, dollarQuote, quoteIdent as qi, quoteLiteral as ql, quoteQualified as qq } from '../../db/sql';
import type { MigrationModel } from '../../model';
import { PROGRESS_PREFIX, names, regclass } from '../../names';
import { orgByRule } from './assignments';
import { orgValue, patiently } from './common';
import { heapTablesOf } from './partitions';

/**
 * Backfill in batches of heap pages, each committed: short row locks, resumable where it stopped. Each batch is
 * sized by time (batchTargetMs, at most twice the last), so it holds its row locks that long whatever a row costs.
 * Each table is vacuumed right after its backfill: otherwise autovacuum starts on its dead rows, and the ACCESS
 * EXCLUSIVE statements that follow would queue behind it (stalling the application queued behind them).
 * A partitioned table has no pages of its own: each of its leaf partitions is backfilled (and vacuumed) in turn.
 */
export function backfill(m: MigrationModel): string[] {
  const spec = m.loaded.spec;
  return m.tables.flatMap((t) => heapTablesOf(t).map((heap) => ({ t, heap }))).flatMap(({ t, heap }) => {
    const table = qq(heap);
    const org = qi(m.orgColumn);
    const range = `t.ctid >= format('(%s,0)', page)::tid AND t.ctid < format('(%s,0)', page + pages_per_batch)::tid AND t.${org} IS NULL`;
    let assign: string;
    if (t.rule.kind === 'parent') {
      // Two statements: a child whose parent still waits for its org must stay NULL, not get the default.
      const ref = qi(t.rule.references);
      assign = `    UPDATE ${table} AS t SET ${org} = p.${org} FROM ${qq(t.rule.parent)} AS p
     WHERE ${range} AND p.${ref} = t.${qi(t.rule.column)} AND p.${org} IS NOT NULL;
    GET DIAGNOSTICS n = ROW_COUNT; done := done + n;
    UPDATE ${table} AS t SET ${org} = ${orgValue(m)}
     WHERE ${range} AND NOT EXISTS (SELECT 1 FROM ${qq(t.rule.parent)} AS p WHERE p.${ref} = t.${qi(t.rule.column)});`;
    } else {
      assign = `    UPDATE ${table} AS t SET ${org} = ${orgByRule(m, t)}
     WHERE ${range};`;
    }
    const where = `table_schema = ${ql(heap.schema)} AND table_name = ${ql(heap.name)}`;
    const body = `DECLARE
  page bigint;
  last_page bigint;
  done bigint;
  done_before bigint;
  n bigint;
  estimate float8;
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
  SELECT reltuples INTO estimate FROM pg_class WHERE oid = ${regclass(heap)};
  IF estimate < 0 THEN  -- never analysed: counted, so that the batches are sized and the progress is true
    SELECT count(*) INTO estimate FROM ${table};
  END IF;
  pages_per_batch := greatest(1, ceil(${spec.batchSize} / greatest(estimate / greatest(last_page, 1), 1)))::int;
  max_pages := 4 * pages_per_batch;
  COMMIT;
  WHILE page <= last_page LOOP
    batch_started := clock_timestamp();
    -- Replica mode for this batch's transaction: the table's own triggers (updated_at and the like) must not fire,
    -- so that the backfill changes nothing but the org column.
    PERFORM set_config('session_replication_role', 'replica', true);
${assign}
    GET DIAGNOSTICS n = ROW_COUNT; done := done + n;
    page := page + pages_per_batch;
    UPDATE ${names.state('backfill')} SET next_page = page, rows_done = done WHERE ${where};
    COMMIT;
    RAISE NOTICE '${PROGRESS_PREFIX}%', json_build_object('table', ${ql(displayName(heap))}, 'pagesDone', least(page, last_page + 1), 'pagesTotal', last_page + 1, 'rowsDone', done, 'rowsBefore', done_before, 'rowsEstimate', estimate::bigint);
    batch_ms := 1000 * extract(epoch FROM clock_timestamp() - batch_started);
    -- At most twice the last batch, and at most four first batches: cheap pages (deleted or already assigned rows) must
    -- not grow a batch that the next dense pages would make long.
    pages_per_batch := greatest(1, least(max_pages, 2 * pages_per_batch, floor(pages_per_batch::float8 * ${spec.batchTargetMs} / greatest(batch_ms, 1))))::int;
  END LOOP;
  UPDATE ${names.state('backfill')} SET completed_at = now() WHERE ${where};
END
`;
    return [
      `DO ${dollarQuote(`\n${body}`)};`,
      ...patiently(m, `VACUUM (ANALYZE) ${table};`),
    ];
  });
}

