// What the sections of the generated script share: blocks, the default org, catalog predicates, lock timeouts.
import { dollarQuote, quoteLiteral as ql } from '../../db/sql';
import type { MigrationModel, TableModel } from '../../model';
import { regclass } from '../../names';

export const doBlock = (body: string) => `DO ${dollarQuote(`\nBEGIN\n${body}\nEND\n`)};`;
export const orgValue = (m: MigrationModel) => `${ql(m.defaultOrgId)}::${m.orgType}`;
export const tableLiteral = (t: TableModel) => `${ql(t.name.schema)}, ${ql(t.name.name)}`;
export const hasColumn = (t: TableModel, column: string) =>
  `EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = ${regclass(t.name)} AND attname = ${ql(column)} AND NOT attisdropped)`;


export const withProblem = (block: string) => block.replace('\nBEGIN\n', '\nDECLARE\n  problem text;\nBEGIN\n');

/** A lock wait long enough to outlast deadlock_timeout, so that it cancels an autovacuum in its way; only for locks that block no DML. */
export const patientLockTimeout = (m: MigrationModel) => `'${Math.max(10_000, m.loaded.spec.lockTimeoutMs)}ms'`;
export const shortLockTimeout = (m: MigrationModel) => `'${m.loaded.spec.lockTimeoutMs}ms'`;
/** A statement whose lock blocks no writer (SHARE UPDATE EXCLUSIVE), run with the patient lock timeout. */
export const patiently = (m: MigrationModel, statement: string) =>
  [`SET lock_timeout = ${patientLockTimeout(m)};`, statement, `SET lock_timeout = ${shortLockTimeout(m)};`];

