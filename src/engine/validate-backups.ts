// Validation of the backups: each still what was taken, private, and every backed-up row still in its table; for a
// mapping or query table the same join also proves that every pre-migration row carries the org its rule gives.
import type { Session } from './db/session';
import type { SnapshotLanes } from './db/snapshot-lanes';
import { displayName, quoteIdent as qi, quoteQualified as qq } from './db/sql';
import type { MigrationModel, TableModel } from './model';
import { STATE_SCHEMA } from './names';
import {
  backupPresent,
  backupReaders,
  currentBackups,
  digestOf,
  droppedBackupTables,
  type BackupRecord,
} from './backups';
import { pairKey } from './key-columns';
import { pairSource } from './script/sections';
import { plural } from '../shared/format';
import { bad, ok, type Pending } from './check-results';

/** A table's current backup: present or not, and (read by a lane) whether it still has its rows and digest. */
export interface BackupState {
  readonly record: BackupRecord;
  readonly present: boolean;
  readonly intact?: Promise<{ matches: boolean; actualRows: number }>;
}

/** What one scan of a backup joined with its table answers: rows lost, and rows not carrying their rule's org. */
interface BackupJoin {
  readonly lost: number;
  readonly wrong?: number;
}

export class BackupValidation {
  private readonly joins = new Map<string, Promise<BackupJoin>>();

  private constructor(
    private readonly lanes: SnapshotLanes,
    private readonly m: MigrationModel,
    readonly states: BackupState[],
  ) {}

  static async read(session: Session, lanes: SnapshotLanes, m: MigrationModel): Promise<BackupValidation> {
    const states: BackupState[] = [];
    for (const record of await currentBackups(session)) {
      const present = await backupPresent(session, record);
      const backup = { schema: STATE_SCHEMA, name: record.backupTable };
      const intact = present
        ? lanes.run(async (s) => {
            const actual = await digestOf(s, backup, record.columns, record.digest);
            return {
              matches: actual.digest === record.digest && actual.rowCount === record.rowCount,
              actualRows: actual.rowCount,
            };
          })
        : undefined;
      states.push({ record, present, intact });
    }
    return new BackupValidation(lanes, m, states);
  }

  stateOf(t: TableModel): BackupState | undefined {
    return this.states.find((c) => c.record.table.schema === t.name.schema && c.record.table.name === t.name.name);
  }

  /** Pre-migration rows keep the org the rules give them (rows written since may carry their writer's org). */
  assignmentCheck(t: TableModel): Pending | undefined {
    if (t.rule.kind === 'parent' || !this.stateOf(t)?.present || t.info.primaryKey.length === 0) return undefined;
    const label = displayName(t.name);
    return this.join(t).then(({ wrong }) =>
      wrong === 0
        ? ok(
            `${label}: expected org assignments`,
            'every pre-migration row has the org its mapping gives (or the default)',
          )
        : bad(
            `${label}: expected org assignments`,
            `${plural(wrong!, 'pre-migration row carries', 'pre-migration rows carry')} another org than the mapping gives`,
          ),
    );
  }

  async checks(session: Session): Promise<Pending[]> {
    const results: Pending[] = [];
    const dropped = await droppedBackupTables(session);
    for (const t of this.m.tables) {
      const label = displayName(t.name);
      const state = this.stateOf(t);
      if (!state && dropped.has(`${t.name.schema}.${t.name.name}`)) {
        results.push(ok(`${label}: backup`, 'dropped by cleanup after sign-off'));
        continue;
      }
      if (!state) {
        results.push(bad(`${label}: backup`, 'no backup is recorded'));
        continue;
      }
      const backupLabel = `${STATE_SCHEMA}.${state.record.backupTable}`;
      if (!state.present) {
        results.push(bad(`${label}: backup intact`, `${backupLabel} is missing`));
        continue;
      }
      results.push(
        state.intact!.then(({ matches, actualRows }) =>
          matches
            ? ok(`${label}: backup intact`, `${backupLabel}: ${plural(state.record.rowCount, 'row')}, digest matches`)
            : bad(
                `${label}: backup intact`,
                `${backupLabel} has ${plural(actualRows, 'row')} / a different digest than recorded`,
              ),
        ),
      );
      const readers = await backupReaders(session, state.record);
      results.push(
        readers.length === 0
          ? ok(`${label}: backup private`, 'no application role can read it')
          : bad(`${label}: backup private`, `readable by ${readers.join(', ')}`),
      );
      if (t.info.primaryKey.length > 0)
        results.push(
          this.join(t).then(({ lost }) =>
            lost === 0
              ? ok(`${label}: no row lost`, `every one of the ${state.record.rowCount} backed-up rows is still there`)
              : bad(
                  `${label}: no row lost`,
                  `${plural(lost, 'backed-up row is', 'backed-up rows are')} no longer in the table (deleted since the backup?)`,
                  'warning',
                ),
          ),
        );
    }
    return results;
  }

  /**
   * One scan of the backup joined with its table by primary key: the backed-up rows no longer there, and for a
   * mapping or query table those that carry another org than the rule gives (or the default).
   */
  private join(t: TableModel): Promise<BackupJoin> {
    const key = `${t.name.schema}.${t.name.name}`;
    let join = this.joins.get(key);
    if (!join) {
      const state = this.stateOf(t)!;
      const m = this.m;
      const backup = qq({ schema: STATE_SCHEMA, name: state.record.backupTable });
      const samePk = t.info.primaryKey.map((c) => `b.${qi(c)} = r.${qi(c)}`).join(' AND ');
      const found = `r.${qi(t.info.primaryKey[0]!)} IS NOT NULL`;
      const mapped = t.rule.kind !== 'parent';
      const sql = mapped
        ? `SELECT count(*) FILTER (WHERE NOT (${found}))::text AS lost,
                  count(*) FILTER (WHERE ${found} AND r.${qi(m.orgColumn)} IS DISTINCT FROM coalesce(a.org_id, $1::text::${m.orgType}))::text AS wrong
             FROM ${backup} b LEFT JOIN ${qq(t.name)} r ON ${samePk}
             LEFT JOIN (SELECT DISTINCT q.key, q.org_id FROM (${pairSource(m, t).pairs}) q WHERE q.org_id IS NOT NULL) a ON a.key = ${pairKey((t.rule as { columns: readonly string[] }).columns, 'r')}`
        : `SELECT count(*)::text AS lost FROM ${backup} b WHERE NOT EXISTS (SELECT 1 FROM ${qq(t.name)} r WHERE ${samePk})`;
      join = this.lanes.run(async (s) => {
        const row = (await s.query<{ lost: string; wrong?: string }>(sql, mapped ? [m.defaultOrgId] : [])).rows[0]!;
        return { lost: Number(row.lost), wrong: row.wrong === undefined ? undefined : Number(row.wrong) };
      });
      this.joins.set(key, join);
    }
    return join;
  }
}
