// The command table: every command the extension contributes, id → handler. Registered in one loop (table.ts);
// test/vscode/suite/commands.test.ts checks it against package.json both ways.
import type { CommandSpec } from './table';
import { addConnection, removeConnection, selectConnection, testConnection } from './connection-commands';
import { createSpec, generateScript, openReport, showStepSql } from './file-commands';
import { previewPlan, rollback, run, runStep, showNextDetails, stepOf, tickManualItem } from './migration-commands';
import { stepOperation } from '../run/operations';
import { enforce } from './enforce-command';
import { STEP_IDS, stepDefinition, type StepId } from '../../engine/steps';
import {
  cancelStatement,
  runAllChecks,
  runAsTenantCommand,
  runStatementCommand,
  showStatementResult,
} from '../sql-editor/commands';

/** Steps whose command does more than run the step. */
const STEP_HANDLERS: Partial<Record<StepId, CommandSpec['handler']>> = {
  rollback: (c) => (args?: unknown) => rollback(c, args),
  enforce: (c) => (args?: unknown) => enforce(c, args),
};

/** One row per step with a command in the registry (src/engine/steps.ts). */
const STEP_COMMANDS: readonly CommandSpec[] = STEP_IDS.flatMap((step) => {
  const command = stepDefinition(step).command;
  if (!command) return [];
  return [
    { id: command.id, handler: STEP_HANDLERS[step] ?? ((c) => () => c.runner.run(stepOperation(step, command.title))) },
  ];
});

export const COMMANDS: readonly CommandSpec[] = [
  ...STEP_COMMANDS,
  { id: 'tenantMigration.run', handler: (c) => (from?: unknown) => run(c, from) },
  { id: 'tenantMigration.previewPlan', handler: (c) => () => previewPlan(c) },
  { id: 'tenantMigration.addConnection', handler: (c) => (args?: unknown) => addConnection(c, args) },
  { id: 'tenantMigration.selectConnection', handler: (c) => (name?: unknown) => selectConnection(c, name) },
  { id: 'tenantMigration.testConnection', handler: (c) => (name?: unknown) => testConnection(c, name) },
  { id: 'tenantMigration.removeConnection', handler: (c) => (name?: unknown) => removeConnection(c, name) },
  { id: 'tenantMigration.cancel', handler: (c) => () => c.runner.cancel() },
  { id: 'tenantMigration.generateScript', handler: (c) => (force?: unknown) => generateScript(c, force) },
  { id: 'tenantMigration.openReport', handler: (c) => () => openReport(c) },
  { id: 'tenantMigration.showLog', handler: (c) => () => c.log.show() },
  { id: 'tenantMigration.refresh', handler: (c) => () => c.refresher.refresh() },
  { id: 'tenantMigration.createSpec', handler: (c) => () => createSpec(c) },
  // The checklist's item actions (hidden from the palette; the argument is the tree node or a step id).
  { id: 'tenantMigration.runStep', handler: (c) => (node: unknown) => runStep(c, node) },
  { id: 'tenantMigration.runFromHere', handler: (c) => (node: unknown) => run(c, stepOf(node)) },
  { id: 'tenantMigration.showStepSql', handler: (c) => (node: unknown) => showStepSql(c, stepOf(node)) },
  { id: 'tenantMigration.showNextDetails', handler: (c) => (node: unknown) => showNextDetails(c, node) },
  { id: 'tenantMigration.forgetWriteConfirmations', handler: (c) => () => c.guard.forgetUnconfirmed() },
  { id: 'tenantMigration.tickManualItem', handler: (c) => (node?: unknown) => tickManualItem(c, node) },
  // The SQL editor (a CodeLens passes the file and the statement's start; the palette uses the cursor).
  {
    id: 'tenantMigration.runStatement',
    handler: (c) => (uri?: unknown, at?: unknown) => runStatementCommand(c, 'read', uri, at),
  },
  {
    id: 'tenantMigration.runStatementWrite',
    handler: (c) => (uri?: unknown, at?: unknown) => runStatementCommand(c, 'write', uri, at),
  },
  {
    id: 'tenantMigration.runStatementAsTenant',
    handler: (c) => (uri?: unknown, at?: unknown, org?: unknown) => runAsTenantCommand(c, uri, at, org),
  },
  {
    id: 'tenantMigration.explainStatement',
    handler: (c) => (uri?: unknown, at?: unknown) => runStatementCommand(c, 'explain', uri, at),
  },
  { id: 'tenantMigration.runAllChecks', handler: (c) => (uri?: unknown) => runAllChecks(c, uri) },
  {
    id: 'tenantMigration.showStatementResult',
    handler: (c) => (uri?: unknown, at?: unknown) => showStatementResult(c, uri, at),
  },
  { id: 'tenantMigration.cancelStatement', handler: (c) => () => cancelStatement(c) },
];
