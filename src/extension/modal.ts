// The extension's modal questions before a write (the target's confirmation, unticked manual items, a script with no
// rehearsal). One function, so that the in-host tests can answer them when the extension runs in test mode
// (TenantMigrationApi.answerModals): a modal waits for a click nobody makes there.
import * as vscode from 'vscode';

export interface ModalQuestion {
  readonly message: string;
  readonly detail?: string;
  readonly buttons: readonly string[];
}
export type ModalAnswerer = (question: ModalQuestion) => string | undefined;

let answerer: ModalAnswerer | undefined;

/** The button clicked, or undefined when dismissed (Escape, Cancel). */
export async function askModal(
  message: string,
  detail: string | undefined,
  ...buttons: string[]
): Promise<string | undefined> {
  if (answerer) return answerer({ message, detail, buttons });
  return vscode.window.showWarningMessage(message, { modal: true, detail }, ...buttons);
}

/** Tests only (the API refuses outside ExtensionMode.Test): answer the modals with `fn`; undefined gives them back to VS Code. */
export function answerModalsWith(fn: ModalAnswerer | undefined): void {
  answerer = fn;
}
