// The project's own test commands (the spec's "tests"), run against the migrated database.
import type { CheckResult } from '../events';
import { runTestCommand } from '../runs/test-commands';
import type { StepBody } from '../step-context';
import { plural } from '../../shared/format';

export const body: StepBody = async (context) => {
  const tests = context.spec.spec.tests;
  if (tests.length === 0) return { status: 'skipped', summary: 'no test commands in the spec', checks: [] };
  const checks: CheckResult[] = [];
  for (const test of tests) {
    checks.push(
      await runTestCommand(test, {
        folder: context.specFolder,
        databaseUrl: context.databaseUrlForTests,
        signal: context.signal,
        onOutput: (message) => context.emit({ type: 'notice', step: 'tests', message }),
      }),
    );
  }
  const failures = checks.filter((c) => !c.ok).length;
  return {
    summary:
      failures === 0
        ? `${plural(checks.length, 'test command')} passed`
        : `${failures} of ${plural(checks.length, 'test command')} failed`,
    checks,
    next: failures ? "Read the failing command's output in the log; fix or roll back." : undefined,
  };
};
