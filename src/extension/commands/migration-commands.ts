// The migration's commands: run the guide, one step, from a step on, roll back, tick a manual item, preview.
import * as vscode from 'vscode';
import { inVsCode } from '../checklist/wording';
import { MANUAL_ITEMS, STEPS, STEP_TITLES, type ChecklistStep, type ManualItem } from '../../engine/events';
import type { Container } from '../container';
import { chooseFlag } from './choice';
import type { PlanPreviewPanel } from '../plan-preview/panel';
import { rollbackOperation, runOperation, stepOperation } from '../run/operations';
import type { Migration, Summary } from '../run/runner';
import { assertTrusted } from '../trust';
import { openScriptAt, generateScript, writeReport } from './file-commands';
import { enforce } from './enforce-command';

export function run(c: Container, from?: unknown): Promise<Summary> {
  return c.runner.run(runOperation(from === undefined ? undefined : stepOf(from)));
}

export async function runStep(c: Container, node: unknown): Promise<unknown> {
  const step = stepOf(node);
  if (step === 'preview') return previewPlan(c);
  if (step === 'report') return writeReport(c);
  if (step === 'enforce') return enforce(c);
  return c.runner.run(stepOperation(step));
}

export async function rollback(c: Container, args?: unknown): Promise<Summary | undefined> {
  const restoreData = await chooseFlag(
    args,
    'restoreData',
    [
      {
        label: 'Undo the migration',
        detail:
          'Drops what the migration added (columns, constraints, policies, triggers, the ledger) in one transaction. Rows written since are kept.',
      },
      {
        label: 'Undo the migration and restore the data from the backups',
        detail: 'Also puts every table back as backed up. Refuses when rows written since would be lost.',
      },
    ],
    'Tenant Migration: Roll Back',
    'What to roll back',
  );
  if (restoreData === undefined) return undefined;
  return c.runner.run(rollbackOperation(restoreData));
}

export async function tickManualItem(
  c: Container,
  node: unknown,
): Promise<{ ok: boolean; item: ManualItem } | undefined> {
  const item = manualItemOf(node) ?? (await pickManualItem(c));
  if (!item) return undefined;
  await c.opener.with({ action: 'Tick a manual item', interactive: true }, async ({ migration }) => {
    await migration.tickManualItem(item);
    c.model.applyStatus(await migration.status());
  });
  const tick = c.model.manual.get(item);
  c.log.info(`Manual item ticked: ${MANUAL_ITEMS[item]}${tick ? ` (by ${tick.by} at ${tick.at})` : ''}`);
  return { ok: true, item };
}

/** Opens the plan preview; the panel reads the plan (read-only) through these callbacks. */
export function previewPlan(c: Container): PlanPreviewPanel {
  assertTrusted('Preview Plan');
  const { PlanPreviewPanel } = c.engines.get();
  const read = <T>(action: string, fn: (m: Migration) => Promise<T>) =>
    c.opener.with({ action, interactive: true }, ({ migration }) => fn(migration));
  return PlanPreviewPanel.show({
    extensionUri: c.context.extensionUri,
    log: c.log.channel,
    loadPlan: async (onFirstAnswer) => {
      const plan = await read('Preview Plan', (m) => m.plan({ onFirstAnswer }));
      c.model.setPreviewed();
      return plan;
    },
    mappingStub: () => read('Write mapping stub', (m) => m.mappingStub()),
    run: () => vscode.commands.executeCommand('tenantMigration.run'),
    generateScript: () => generateScript(c),
    openScriptAt: (line) => openScriptAt(c, line),
  });
}

/** A failed step's summary and what to do next, in full, in a read-only editor (the tree's row is cut at its width). */
export async function showNextDetails(c: Container, node: unknown): Promise<{ ok: boolean; text: string }> {
  const step = stepOf(node);
  const view = c.model.step(step);
  const text = [
    `# ${STEP_TITLES[step]}: ${view.status}`,
    '',
    ...(view.summary ? [inVsCode(view.summary), ''] : []),
    '## What to do next',
    '',
    inVsCode(view.next ?? 'Nothing: the step has not failed.'),
    '',
    "_Preview Plan (Tenant Migration: Preview Plan) shows the plan and every mapping gap; Show Log has the run's whole output._",
    '',
  ].join('\n');
  const document = await vscode.workspace.openTextDocument(
    c.details.show(`${STEP_TITLES[step]} - what to do next.md`, text),
  );
  await vscode.window.showTextDocument(document, { preview: true });
  return { ok: true, text };
}

export function stepOf(arg: unknown): ChecklistStep {
  const step = typeof arg === 'string' ? arg : (arg as { kind?: string; step?: string } | undefined)?.step;
  if (!step || !(STEPS as readonly string[]).includes(step))
    throw new Error(`Not a checklist step: ${JSON.stringify(step ?? arg)}. Use one of ${STEPS.join(', ')}.`);
  return step as ChecklistStep;
}

function manualItemOf(arg: unknown): ManualItem | undefined {
  const item = typeof arg === 'string' ? arg : (arg as { kind?: string; item?: string } | undefined)?.item;
  return item && item in MANUAL_ITEMS ? (item as ManualItem) : undefined;
}

async function pickManualItem(c: Container): Promise<ManualItem | undefined> {
  const open = c.model.openManualItems();
  const picked = await vscode.window.showQuickPick(
    open.map((id) => ({ label: MANUAL_ITEMS[id], id })),
    {
      title: 'Tenant Migration: Tick a Manual Prerequisite',
      placeHolder: open.length ? 'Who ticks it and when is recorded in the database' : 'Every manual item is ticked',
    },
  );
  return picked?.id;
}
