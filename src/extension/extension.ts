// Entry point. activate() builds the composition root (container.ts) and nothing else: the engine (pg, zod,
// libpg-query) is a separate bundle required on first use. An activation failure is shown, never swallowed.
import * as vscode from 'vscode';
import { createApi, type TenantMigrationApi } from './api';
import { Container } from './container';
import { ExtensionLog } from './log';

export function activate(context: vscode.ExtensionContext): TenantMigrationApi {
  const started = performance.now();
  const log = new ExtensionLog();
  context.subscriptions.push(log);
  try {
    const container = new Container(context, log);
    context.subscriptions.push(container);
    const ms = performance.now() - started;
    log.info(`Tenant Migration ${context.extension.packageJSON.version as string} activated in ${ms.toFixed(1)} ms`);
    return createApi(container, ms);
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
