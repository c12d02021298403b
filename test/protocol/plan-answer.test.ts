// What the preview says while a first answer (estimates) is shown and once the exact checks answered: the first
// answer never claims conflicts and missing orgs were counted exactly, and Run says why it waits.
import assert from 'node:assert/strict';
import { estimateNote, isFirstAnswer, runTitle } from '../../src/shared/plan-answer';
import { toPlanView } from '../../src/shared/protocol';
import { samplePlan } from './support/sample-plan';

const firstAnswer = () => {
  const plan = samplePlan();
  const gaps = {
    ...plan.gaps,
    findings: plan.gaps.findings.filter((f) => !f.blocking),
    blocking: false,
    pending: ['public.credentials: keys mapped to two orgs', 'public.credentials: orgs that do not exist'],
  };
  return toPlanView({ ...plan, gaps }).gaps;
};

describe('plan preview: the first answer and the exact one', () => {
  it('a first answer is one with exact checks still running', () => {
    assert.equal(isFirstAnswer(firstAnswer()), true);
    assert.equal(isFirstAnswer({ ...firstAnswer(), pending: [] }), false);
    assert.equal(isFirstAnswer(toPlanView(samplePlan()).gaps), false);
  });

  it("the first answer's estimate note does not say conflicts and missing orgs were counted exactly", () => {
    const first = estimateNote(firstAnswer());
    assert.doesNotMatch(first, /counted exactly/);
    assert.match(first, /being checked over every row/);
    assert.match(estimateNote({ blocking: false }), /always counted exactly/);
  });

  it('Run says it waits for the exact checks in a first answer, and for the fixes when blocked', () => {
    assert.match(runTitle(firstAnswer()), /^Waiting for the exact checks/);
    assert.match(runTitle({ blocking: true, pending: ['x'] }), /^Resolve the blocking mapping gaps/);
    assert.match(runTitle({ blocking: false }), /^Tenant Migration: Run/);
    assert.match(runTitle(undefined), /^Tenant Migration: Run/);
  });
});
