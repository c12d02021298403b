// Finds a step's body by its id: src/engine/steps/<id>.ts exports `body`. A template import, so that the registry
// (read by the extension's activation bundle) does not pull the bodies and the database driver in; esbuild bundles
// every file of src/engine/steps/ for it, and test/engine/steps.test.ts checks that each registered step has one.
import type { StepId } from '../steps';
import type { StepBody } from '../step-context';

export async function loadStepBody(step: StepId): Promise<StepBody> {
  const module = (await import(`../steps/${step}.ts`)) as { body?: StepBody };
  if (typeof module.body !== 'function') throw new Error(`src/engine/steps/${step}.ts does not export a step body`);
  return module.body;
}
