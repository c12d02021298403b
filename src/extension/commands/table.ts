// The command table's shape and the one loop that registers it. Every handler's failure is shown to the user
// with what to do next, and comes back to a programmatic caller as { ok: false, message }.
import * as vscode from 'vscode';
import type { Container } from '../container';
import { errorText, showError } from '../errors';

export type Handler = (...args: unknown[]) => unknown;

export interface CommandSpec {
  /** The command id; package.json contributes exactly the ids in the table (a test checks both ways). */
  readonly id: `tenantMigration.${string}`;
  /** Builds the handler from the services it needs. */
  readonly handler: (c: Container) => Handler;
}

/** `register` is VS Code's by default; the container passes startup.ts's, which VS Code's registrations forward to. */
export function registerCommands(
  table: readonly CommandSpec[],
  c: Container,
  register: (id: string, handler: Handler) => vscode.Disposable = vscode.commands.registerCommand,
): vscode.Disposable[] {
  return table.map(({ id, handler }) => {
    const run = handler(c);
    return register(id, async (...args: unknown[]) => {
      try {
        return await run(...args);
      } catch (error) {
        showError(c.log, error);
        const { message, next } = errorText(error);
        return { ok: false, message: c.log.scrub(message), next: next && c.log.scrub(next) };
      }
    });
  });
}
