// What the shape check reports: one object the migration cannot handle as it is (blocking), or must tell about.
import type { Session } from '../db/session';
import type { MigrationModel, TableModel } from '../model';

export type ShapeKind =
  | 'inheritance'
  | 'replica-identity'
  | 'publication'
  | 'org-column'
  | 'trigger-fires-in-replica'
  | 'partition-owner'
  | 'global-unique'
  | 'same-named-object'
  | 'view'
  | 'materialized-view'
  | 'function'
  | 'shared-table'
  | 'unplaced-table'
  | 'unmigrated-parent'
  | 'role-membership'
  | 'probe-row';

export interface ShapeFinding {
  readonly kind: ShapeKind;
  /** The migrated table the finding is about. */
  readonly table: string;
  /** The object named (a child table, a publication, a trigger, a view …). */
  readonly object: string;
  /** Blocking findings refuse the run before anything is written. */
  readonly blocking: boolean;
  readonly message: string;
  /** The exact statement or step that resolves it (blocking findings always have one). */
  readonly fix?: string;
}

export type ShapeDetector = (session: Session, model: MigrationModel) => Promise<ShapeFinding[]>;

export const tableOids = (model: MigrationModel) => model.tables.map((t) => t.info.oid);
export const byOid = (model: MigrationModel, oid: number): TableModel => model.tables.find((t) => t.info.oid === oid)!;
