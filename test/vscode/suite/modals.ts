// The extension's modal questions in the in-host suites: VS Code refuses to show a dialog in tests, so the suites
// answer them through the extension's test hook (TenantMigrationApi.answerModals, test mode only). Every question is
// recorded, so a test asserts what the operator would have read. The UI end-to-end test (test/vscode/ui) clicks the
// real dialogs.
import type { TenantMigrationApi } from '../../../src/extension/api';
import type { ModalQuestion } from '../../../src/extension/modal';

type Answer = (question: ModalQuestion) => string | undefined;

/** By default a write goes ahead: "Continue" on the target's confirmation, "Run Anyway" with unticked items. */
const goAhead: Answer = (q) => q.buttons.find((b) => b === 'Continue' || b === 'Run Anyway');

// Each suite is bundled on its own (build-tests.mjs): the answer and the record live on globalThis, shared by all.
const shared = ((
  globalThis as { tenantMigrationModals?: { answer: Answer; asked: ModalQuestion[] } }
).tenantMigrationModals ??= { answer: goAhead, asked: [] });
export const asked = shared.asked;

/** From now on the suites answer the modals (recording them; index.ts calls this once); `release` gives them back to VS Code. */
export function takeModals(api: TenantMigrationApi): { release(): void } {
  api.answerModals((q) => {
    asked.push(q);
    return shared.answer(q);
  });
  return { release: () => api.answerModals(undefined) };
}

/** Answers with `fn` (undefined: dismissed, as Escape does) until the returned function restores the default. */
export function answerModals(fn: Answer): () => void {
  shared.answer = fn;
  return () => {
    shared.answer = goAhead;
  };
}
