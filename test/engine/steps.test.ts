// The step registry (src/engine/steps.ts): each step has its body file, `run`'s sequence and the CLI's commands
// follow it, and "writes" is one set for the CLI's confirmation and the extension's.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { COMMANDS, writes } from '../../src/cli/args';
import { loadStepBody } from '../../src/engine/runs/step-body';
import { STEP_IDS, STEPS, runSequence, stepDefinition, stepForCli } from '../../src/engine/steps';
import { runOperation, stepOperation } from '../../src/extension/run/operations';

describe('the step registry', () => {
  it('has a body file for every step, and no body file without a step', async () => {
    for (const id of STEP_IDS) assert.equal(typeof (await loadStepBody(id)), 'function', id);
    const files = fs.readdirSync(path.join(__dirname, '../../src/engine/steps')).map((f) => f.replace(/\.ts$/, ''));
    assert.deepEqual(files.sort(), [...STEP_IDS].sort());
  });

  it('orders run as the checklist does, from any step on, with the report last and the after-steps never', () => {
    // The guide's steps; a step added later may sit between them.
    const guide = (ids: readonly string[]) =>
      ids.filter((id) =>
        ['prerequisites', 'preview', 'backup', 'migrate', 'validate', 'isolation', 'tests', 'report'].includes(id),
      );
    assert.deepEqual(guide(STEPS), [
      'prerequisites',
      'preview',
      'backup',
      'migrate',
      'validate',
      'isolation',
      'tests',
      'report',
    ]);
    assert.deepEqual(guide(runSequence()), [
      'prerequisites',
      'preview',
      'backup',
      'migrate',
      'validate',
      'isolation',
      'tests',
    ]);
    assert.deepEqual(guide(runSequence('validate')), ['validate', 'isolation', 'tests']);
    assert.deepEqual(guide(runOperation('validate').steps), ['validate', 'isolation', 'tests', 'report']);
    for (const id of runSequence()) assert.equal(stepDefinition(id).inRun, 'yes', `${id} runs in run`);
    const opted = STEP_IDS.filter((id) => stepDefinition(id).inRun === 'opt-in');
    for (const id of opted)
      assert.ok(
        !runSequence().includes(id) && runSequence('prerequisites', [id]).includes(id),
        `${id} only when asked for`,
      );
    assert.equal(runOperation('validate').writes, false);
    assert.equal(runOperation().writes, true);
  });

  it('gives the CLI a command per step that has one, and the same "writes" as the extension', () => {
    const cliSteps = STEP_IDS.flatMap((id) => stepDefinition(id).cli?.name ?? []);
    assert.deepEqual(COMMANDS, ['init', 'plan', 'generate', 'tick', 'lint', ...cliSteps, 'run', 'status', 'report']);
    assert.equal(stepForCli('verify-isolation'), 'isolation');
    for (const name of ['backup', 'migrate', 'rollback', 'finalize', 'cleanup', 'run'])
      assert.ok(writes(name), `${name} asks for confirmation`);
    for (const name of ['init', 'plan', 'generate', 'tick', 'lint', 'validate', 'verify-isolation', 'status', 'report'])
      assert.ok(!writes(name), `${name} does not`);
    for (const id of STEP_IDS) {
      assert.equal(stepOperation(id).writes, stepDefinition(id).writes, id);
      const cli = stepDefinition(id).cli;
      if (cli) assert.equal(writes(cli.name), stepDefinition(id).writes, cli.name);
    }
  });
});
