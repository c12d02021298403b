// Generates scripts/migrate_to_multitenant.sql from the model: reviewable, idempotent, runs unchanged under psql -f.
import type { MigrationModel } from '../model';
import { displayName } from '../db/sql';
import * as section from './sections';
import { laneMarker, ledgerLane, perHeapLanes, perTableLanes } from './lanes';

export const STEP_MARKER = '-- @tenant-migration step=';

export type ScriptStep =
  'prepare' | 'backup' | 'columns' | 'backfill' | 'constraints' | 'indexes' | 'ledger' | 'rls' | 'auth-hook' | 'vacuum';

const STEP_TITLES: Record<ScriptStep, string> = {
  prepare: 'State schema and preflight checks: refuses before any change when the default org is missing',
  backup: 'Backups of every table, once per migration, in one snapshot; readable by the owner only',
  columns:
    'The org assignments read from the mapping as it is now (refuses before any change to your tables when a key maps to two orgs or to a missing org), the org column added (nullable: no rewrite), and the triggers that give new rows their org',
  backfill:
    'Backfill in committed batches sized by time (short row locks; resumes where it stopped), in groups with a VACUUM between them (the next group reuses the space the last one freed), then VACUUM ANALYZE of each table',
  constraints: 'NOT NULL through a validated CHECK; the foreign key NOT VALID, then validated',
  indexes:
    'Indexes, built CONCURRENTLY; the unique constraints and indexes the spec makes per org, swapped in a short lock',
  ledger: 'The tenant_credentials ledger',
  rls: 'Row-level security in transition mode, one table per transaction: a request with a tenant context is held to its org, one without keeps its old access (orgs known now only; no moves); FORCE waits for "enforce"; then the views the spec switches to security_invoker',
  'auth-hook':
    'Supabase Custom Access Token Hook: the org claim from the membership table (switch it on in Authentication → Hooks)',
  vacuum: 'ANALYZE of the new ledger',
};

/** How the script is generated beyond the model: only benchmarks change it (the backfill's VACUUM groups). */
export interface GenerateOptions {
  readonly backfillGroups?: typeof section.BACKFILL_GROUPS;
}

export function scriptSteps(
  model: MigrationModel,
  options: GenerateOptions = {},
): { step: ScriptStep; statements: string[] }[] {
  return [
    {
      step: 'prepare',
      statements: [
        ...section.stateSchema(),
        ...section.partitionState(model),
        ...section.preflight(model),
        ...section.partitionPreflight(model),
        ...section.choiceState(model),
        ...section.choicePreflight(model),
      ],
    },
    {
      step: 'backup',
      statements: [
        ...section.snapshot(model),
        ...section.partitionSnapshot(model),
        ...section.choiceSnapshot(model),
        ...section.backup(model),
      ],
    },
    {
      step: 'columns',
      statements: [
        ...section.assignments(model),
        ...section.addColumns(model),
        ...section.assignTriggers(model),
        ...section.addNewAssignments(model),
      ],
    },
    {
      step: 'backfill',
      statements: [
        ...perHeapLanes(model, (t, i, heap) => section.heapBackfill(model, t, i, heap, options.backfillGroups), {
          waitsForParent: true,
        }),
        ...perHeapLanes(model, (_t, _i, heap) => section.heapRebuild(model, heap)),
      ],
    },
    {
      step: 'constraints',
      // A child's constraints after its parent's: the parent's sweep gives its late rows their org before the child's
      // sweep reads them. Attaching a partitioned table's foreign key locks the orgs table, which every lane's keys read.
      statements: perTableLanes(model, (t) => section.tableConstraints(model, t), {
        waitsForParent: true,
        alone: (t) => t.info.partitionTree !== undefined,
      }),
    },
    {
      step: 'indexes',
      statements: perTableLanes(model, (t) => [...section.tableIndexes(model, t), ...section.perOrgUniques(model, t)]),
    },
    { step: 'ledger', statements: ledgerStatements(model) },
    {
      step: 'rls',
      statements: [
        ...section.rowLevelSecurity(model),
        ...section.revokePartitionPrivileges(model),
        ...section.viewSecurity(model),
      ],
    },
    { step: 'auth-hook', statements: section.authHook(model) },
    { step: 'vacuum', statements: section.vacuum(model) },
  ];
}

function ledgerStatements(model: MigrationModel): string[] {
  const statements = section.ledger(model);
  const lane = ledgerLane(model);
  if (!lane || statements.length === 0) return statements;
  const from = model.ledger!.from.name;
  return [
    laneMarker(lane, `${displayName(model.ledger!.name)}, after ${displayName(from)}`),
    ...statements,
    laneMarker('none', 'the end of the lanes'),
  ];
}

export function generateScript(model: MigrationModel, options: GenerateOptions = {}): string {
  const spec = model.loaded.spec;
  const header = [
    '-- Multi-tenant migration, generated by Tenant Migration from tenant-migration.json. Review it before you run it.',
    `-- Tables: ${model.tables.map((t) => displayName(t.name)).join(', ')}; org column "${model.orgColumn}" (${model.orgType}) referencing ${displayName(model.orgs.name)}.`,
    '-- Idempotent and resumable: run it again after a failure or a cancel and it continues where it stopped.',
    '-- Run it with:  psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -f scripts/migrate_to_multitenant.sql',
    '-- or with:      tenant-migrate migrate',
    '',
    '\\set ON_ERROR_STOP on',
    `SET lock_timeout = '${spec.lockTimeoutMs}ms';`,
    'SET statement_timeout = 0;',
    'SET row_security = off;',
    '',
  ];
  const body = scriptSteps(model, options).flatMap(({ step, statements }) =>
    statements.length === 0
      ? []
      : [`${STEP_MARKER}${step}`, `-- ${STEP_TITLES[step]}`, ...statements.map((s) => `${s}\n`)],
  );
  return `${header.join('\n')}\n${body.join('\n')}`;
}
