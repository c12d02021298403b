// What the run will write to the server's disk, estimated from the catalog before anything runs, against the free
// space of that disk where it can be known (a server on this machine whose data directory the role may read).
import fs from 'node:fs';
import path from 'node:path';
import type { Session } from './db/session';
import { quoteQualified as qq } from './db/sql';
import type { MigrationModel } from './model';
import { backfillGroups } from './script/sections/backfill';
import { heapTablesOf } from './script/sections/partitions';

export interface DiskEstimate {
  /** `CREATE TABLE AS` copies of each migrated table: heap and TOAST, no indexes. */
  readonly backups: number;
  /** What the backfill leaves: one group's dead row versions (VACUUM between groups reuses the rest) and the new column. */
  readonly backfill: number;
  /** The new org index of each table. */
  readonly orgIndexes: number;
  /** The assignment tables and the ledger (a key and an org per row, with their primary keys). */
  readonly helperTables: number;
  /** At most one table at a time: its indexes grown by the backfill's new entries plus the copy REINDEX CONCURRENTLY builds. */
  readonly reindex: number;
  /** Written to the WAL, roughly everything above plus every row written once more (new versions, rebuilt indexes). */
  readonly walWritten: number;
  /** The part of that WAL that stays in pg_wal at once: checkpoints recycle it past max_wal_size. */
  readonly walKept: number;
  /** What must be free on the server's disk at the run's peak: the sum of all above but walWritten. */
  readonly needed: number;
  readonly free: FreeSpace;
}

export type FreeSpace =
  | { readonly known: true; readonly bytes: number; readonly where: string }
  | { readonly known: false; readonly why: string };

/** How the free space is read: statfs of the server's data directory (a seam: a test passes its own figure). */
export type FreeSpaceReader = (session: Session) => Promise<FreeSpace>;

/** Bytes of one more org value per row (alignment included, roughly). */
function orgWidth(orgType: string): number {
  if (/^(integer|int4|smallint|int2)\b/.test(orgType)) return 4;
  if (/^(bigint|int8)\b/.test(orgType)) return 8;
  return 16; // uuid, and a short text id
}

/** A btree entry: its 8-byte header, the key aligned to 8, a 4-byte line pointer; leaf pages filled to 90%. */
const indexBytesPerRow = (width: number) => (8 + Math.ceil(width / 8) * 8 + 4) / 0.9;
/** A (key, org) row of an assignment table or the ledger, heap and primary key (74–91 bytes measured). */
const HELPER_ROW_BYTES = 96;

export async function estimateDisk(
  session: Session,
  model: MigrationModel,
  readFree: FreeSpaceReader = serverFreeSpace,
): Promise<DiskEstimate> {
  const heaps = model.tables.flatMap((t) => heapTablesOf(t).map((h) => ({ table: t, heap: h })));
  const { rows: sizes } = await session.query<{ heap: string; indexes: string; rows: number }>(
    `SELECT pg_table_size(r)::text AS heap, pg_indexes_size(r)::text AS indexes, greatest(c.reltuples, 0)::float8 AS rows
         FROM unnest($1::text[]) WITH ORDINALITY AS n(name, i) CROSS JOIN LATERAL to_regclass(n.name) AS r JOIN pg_class c ON c.oid = r
        ORDER BY n.i`,
    [heaps.map((h) => qq(h.heap))],
  );
  const { rows: settings } = await session.query<{ max_wal: string }>(
    `SELECT (SELECT setting::bigint * 1024 * 1024 FROM pg_settings WHERE name = 'max_wal_size')::text AS max_wal`,
  );
  const free = await readFree(session);
  const width = orgWidth(model.orgType);
  let backups = 0;
  let backfill = 0;
  let orgIndexes = 0;
  let reindex = 0;
  let rewritten = 0;
  for (const size of sizes) {
    const heap = Number(size.heap);
    const indexes = Number(size.indexes);
    backups += heap;
    backfill += heap / backfillGroups(heap + indexes) + size.rows * width;
    orgIndexes += size.rows * indexBytesPerRow(width);
    reindex = Math.max(reindex, 2 * indexes);
    rewritten += heap + size.rows * width + 2 * indexes;
  }
  // An assignment table holds every key of its pairs: the whole mapping for a mapping rule.
  const mappingRows = model.mapping
    ? Number(
        (
          await session.query<{ n: number }>(
            `SELECT greatest(reltuples, 0)::float8 AS n FROM pg_class WHERE oid = $1::regclass`,
            [qq(model.mapping.name)],
          )
        ).rows[0]?.n ?? 0,
      )
    : 0;
  const pairRows = (t: (typeof model.tables)[number]) =>
    t.rule.kind === 'mapping' ? mappingRows : t.rule.kind === 'query' ? t.info.estimatedRows : 0;
  const helperTables =
    HELPER_ROW_BYTES *
    (model.tables.reduce((n, t) => n + pairRows(t), 0) + (model.ledger?.from.info.estimatedRows ?? 0));
  const walWritten = backups + rewritten + orgIndexes + helperTables;
  const walKept = Math.min(walWritten, Number(settings[0]?.max_wal ?? walWritten));
  const round = Math.round;
  return {
    backups: round(backups),
    backfill: round(backfill),
    orgIndexes: round(orgIndexes),
    helperTables: round(helperTables),
    reindex: round(reindex),
    walWritten: round(walWritten),
    walKept: round(walKept),
    needed: round(backups + backfill + orgIndexes + helperTables + reindex + walKept),
    free,
  };
}

/**
 * The free space of the disk holding the server's data directory, when the server runs on this machine: the
 * directory's postmaster.pid must name the same start time as the server, or another server's disk would be read.
 */
export async function serverFreeSpace(session: Session): Promise<FreeSpace> {
  const { rows } = await session.query<{ dir: string | null; started: number }>(
    `SELECT CASE WHEN (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) OR pg_has_role(current_user, 'pg_read_all_settings', 'USAGE')
                 THEN current_setting('data_directory') END AS dir,
            extract(epoch FROM pg_postmaster_start_time())::float8 AS started`,
  );
  const { dir, started } = rows[0]!;
  if (!dir)
    return {
      known: false,
      why: 'this role may not read the server’s data_directory (superuser or pg_read_all_settings)',
    };
  let pidFile: string;
  try {
    pidFile = await fs.promises.readFile(path.join(dir, 'postmaster.pid'), 'utf8');
  } catch {
    return { known: false, why: 'the server’s data directory is not on this machine (or not readable here)' };
  }
  const startedAt = Number(pidFile.split('\n')[2]);
  if (!(Math.abs(startedAt - started) < 2))
    return { known: false, why: `${dir} on this machine belongs to another server than the one connected to` };
  const stats = await fs.promises.statfs(dir);
  return { known: true, bytes: stats.bavail * stats.bsize, where: dir };
}
