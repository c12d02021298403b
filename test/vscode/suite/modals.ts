// Modal dialogs in the in-host suites: a modal warning waits for a click nobody makes here, so the suites answer them.
// The test bundle lives inside the extension's folder, so `vscode` here is the extension's own API object: replacing
// window.showWarningMessage answers the extension's modals (non-modal messages go to VS Code as before). Every modal
// asked is recorded, so a test can assert what the operator would have read. The UI end-to-end test (test/vscode/ui)
// clicks the real dialogs.
import * as vscode from 'vscode';

export interface Modal { readonly message: string; readonly detail?: string; readonly buttons: readonly string[] }
type Answer = (modal: Modal) => string | undefined;

/** By default a write goes ahead: "Continue" on the target's confirmation, "Run Anyway" with unticked items. */
const goAhead: Answer = (m) => m.buttons.find((b) => b === 'Continue' || b === 'Run Anyway');

let answer: Answer = goAhead;
export const asked: Modal[] = [];

export function installModalAnswers(): void {
  const window = vscode.window as { showWarningMessage: (...args: unknown[]) => Thenable<unknown> };
  const original = window.showWarningMessage.bind(vscode.window);
  window.showWarningMessage = (message: unknown, ...rest: unknown[]) => {
    const options = rest[0] as vscode.MessageOptions | undefined;
    if (typeof options !== 'object' || options === null || !('modal' in options) || !options.modal) return original(message, ...rest);
    const buttons = rest.slice(1).map((b) => (typeof b === 'string' ? b : (b as vscode.MessageItem).title));
    const modal: Modal = { message: String(message), detail: options.detail, buttons };
    asked.push(modal);
    const title = answer(modal);
    return Promise.resolve(rest.slice(1).find((b) => (typeof b === 'string' ? b : (b as vscode.MessageItem).title) === title));
  };
}

/** Answers the modals with `fn` (undefined: dismissed, as Escape does) until the returned function restores the default. */
export function answerModals(fn: Answer): () => void {
  answer = fn;
  return () => { answer = goAhead; };
}
