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
    assert.deepEqual(STEPS, ['prerequisites', 'preview', 'backup', 'migrate', 'validate', 'isolation', 'tests', 'report']);
    assert.deepEqual(runSequence(), ['prerequisites', 'preview', 'backup', 'migrate', 'validate', 'isolation', 'tests']);
    assert.deepEqual(runSequence('validate'), ['validate', 'isolation', 'tests']);
    assert.deepEqual(runOperation('validate').steps, ['validate', 'isolation', 'tests', 'report']);
    assert.equal(runOperation('validate').writes, false);
    assert.equal(runOperation().writes, true);
  });

  it('gives the CLI a command per step that has one, and the same "writes" as the extension', () => {
    assert.deepEqual(COMMANDS, ['init', 'plan', 'generate', 'backup', 'migrate', 'validate', 'verify-isolation', 'rollback', 'finalize', 'cleanup', 'run', 'status', 'report']);
    assert.equal(stepForCli('verify-isolation'), 'isolation');
    const cliWriting = COMMANDS.filter(writes);
    assert.deepEqual(cliWriting, ['backup', 'migrate', 'rollback', 'finalize', 'cleanup', 'run']);
    for (const id of STEP_IDS) assert.equal(stepOperation(id).writes, stepDefinition(id).writes, id);
    assert.deepEqual(STEP_IDS.filter((id) => stepDefinition(id).writes), ['backup', 'migrate', 'rollback', 'finalize', 'cleanup']);
  });
});
