// The project's own test commands (the spec's "tests"), run against the migrated database.
import type { CheckResult } from '../events';
import { runTestCommand } from '../runs/test-commands';
import type { StepBody } from '../step-context';

export const body: StepBody = async (context) => {
  const tests = context.spec.spec.tests;
  if (tests.length === 0) return { status: 'skipped', summary: 'no test commands in the spec', checks: [] };
  const checks: CheckResult[] = [];
  for (const test of tests) {
    checks.push(await runTestCommand(test, { folder: context.specFolder, databaseUrl: context.databaseUrlForTests, signal: context.signal, onOutput: (message) => context.emit({ type: 'notice', step: 'tests', message }) }));
  }
  const failures = checks.filter((c) => !c.ok).length;
  return {
    summary: failures === 0 ? `${checks.length} test command(s) passed` : `${failures} of ${checks.length} test command(s) failed`, checks,
    next: failures ? 'Read the failing command\'s output in the log; fix or roll back.' : undefined,
  };
};
