// Entry point (dist/extension.js, kept small). activate() only registers with VS Code (startup.ts): the services
// (the composition root, container.ts, in dist/services.js) are built right after it or on first use, and the engine
// (pg, zod's engine schemas, libpg-query: dist/engine.js) when something needs it. A failure is shown, never swallowed.
import * as vscode from 'vscode';
import type { TenantMigrationApi } from './api';
import { ExtensionLog } from './log';
import { Startup } from './startup';

export function activate(context: vscode.ExtensionContext): TenantMigrationApi {
  const started = performance.now();
  const log = new ExtensionLog();
  context.subscriptions.push(log);
  try {
    const startup = new Startup(context, log);
    context.subscriptions.push(startup);
    const ms = performance.now() - started;
    log.info(`Tenant Migration ${context.extension.packageJSON.version as string} activated in ${ms.toFixed(1)} ms`);
    return startup.api(ms);
  } catch (error) {
    const message = `Tenant Migration could not start: ${(error as Error).message}`;
    log.error(`${message}\n${(error as Error).stack ?? ''}`);
    void vscode.window.showErrorMessage(message, 'Show Log').then((b) => b && log.show());
    throw error;
  }
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions (the container disposes its services in reverse order).
}
