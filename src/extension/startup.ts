// Two-phase activation. Phase 1 (activate(), this module, in the small dist/extension.js) only registers with VS
// Code: every command package.json contributes (each forwards to its handler), the Checklist view with a forwarding
// data provider, and the exports. Phase 2 builds the services — the composition root (container.ts) and everything
// it imports, in dist/services.js — on first use: a command, the view asking for its rows, a property of the exports;
// or at the latest in a task of its own right after activation (the status bar shows the connection at startup).
// The engine (dist/engine.js) loads later still, when something needs the database or the parser.
//
// A feature follows the same pattern by registering in the composition root: its commands go in the command table
// (commands/definitions.ts, contributed in package.json: phase 1 registers them from the manifest), its providers in
// its service's constructor. Nothing is added here.
import path from 'node:path';
import * as vscode from 'vscode';
import type { TenantMigrationApi } from './api';
import type { Node } from './checklist/nodes';
import type { Container } from './container';
import type { ExtensionLog } from './log';

export const CHECKLIST_VIEW = 'tenantMigration.checklist';

type Services = typeof import('./services');
type Handler = (...args: unknown[]) => unknown;

/** What phase 1 registered with VS Code; the composition root fills it in. */
export interface StartupRegistrations {
  /** The Checklist view, created at activation. */
  readonly checklistView: vscode.TreeView<Node>;
  /** Makes `provider` the view's data provider (VS Code's provider forwards to it). */
  attachChecklist(provider: vscode.TreeDataProvider<Node>): vscode.Disposable;
  /** Installs the handler of a command package.json contributes (registered with VS Code at activation). */
  readonly registerCommand: (id: string, handler: Handler) => vscode.Disposable;
}

/** The view's data provider from activation on: it builds the services on the first question and forwards it. */
class ForwardingTreeProvider implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private target?: vscode.TreeDataProvider<Node>;
  private readonly changed = new vscode.EventEmitter<Node | Node[] | undefined | null | void>();
  readonly onDidChangeTreeData = this.changed.event;

  constructor(private readonly ensure: () => unknown) {}

  attach(provider: vscode.TreeDataProvider<Node>): vscode.Disposable {
    this.target = provider;
    const forwarding = provider.onDidChangeTreeData?.((e) => this.changed.fire(e));
    return {
      dispose: () => {
        forwarding?.dispose();
        if (this.target === provider) this.target = undefined;
      },
    };
  }

  private provider(): vscode.TreeDataProvider<Node> | undefined {
    try {
      this.ensure();
    } catch {
      return undefined; // shown to the user once, by Startup.services()
    }
    return this.target;
  }

  getChildren(node?: Node): vscode.ProviderResult<Node[]> {
    return this.provider()?.getChildren(node) ?? [];
  }
  getTreeItem(node: Node): vscode.TreeItem | Thenable<vscode.TreeItem> {
    return this.provider()!.getTreeItem(node);
  }
  getParent(node: Node): vscode.ProviderResult<Node> {
    return this.provider()?.getParent?.(node);
  }

  dispose(): void {
    this.changed.dispose();
  }
}

export class Startup implements StartupRegistrations, vscode.Disposable {
  readonly checklistView: vscode.TreeView<Node>;
  private readonly forwarder = new ForwardingTreeProvider(() => this.services());
  private readonly commandIds: ReadonlySet<string>;
  private readonly handlers = new Map<string, Handler>();
  private readonly disposables: vscode.Disposable[] = [];
  private container?: Container;
  private module?: Services;
  private failure?: Error;
  private readonly timer: ReturnType<typeof setTimeout>;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly log: ExtensionLog,
    private readonly bundle = path.join(__dirname, 'services.js'),
  ) {
    this.checklistView = vscode.window.createTreeView(CHECKLIST_VIEW, {
      treeDataProvider: this.forwarder,
      showCollapseAll: true,
      manageCheckboxStateManually: true,
    });
    this.disposables.push(this.forwarder, this.checklistView);
    const contributed =
      (context.extension.packageJSON as { contributes?: { commands?: { command: string }[] } }).contributes?.commands ??
      [];
    this.commandIds = new Set(contributed.map((c) => c.command));
    for (const id of this.commandIds)
      this.disposables.push(vscode.commands.registerCommand(id, (...args: unknown[]) => this.execute(id, args)));
    this.timer = setTimeout(() => {
      try {
        this.services();
      } catch {
        /* shown by services() */
      }
    }, 0);
  }

  readonly registerCommand = (id: string, handler: Handler): vscode.Disposable => {
    if (!this.commandIds.has(id)) throw new Error(`The command ${id} is not contributed in package.json.`);
    this.handlers.set(id, handler);
    return {
      dispose: () => {
        if (this.handlers.get(id) === handler) this.handlers.delete(id);
      },
    };
  };

  attachChecklist(provider: vscode.TreeDataProvider<Node>): vscode.Disposable {
    return this.forwarder.attach(provider);
  }

  /** Phase 2: builds the services once (a failure is shown once, with the log, and thrown to every caller). */
  services(): Container {
    if (this.container) return this.container;
    if (this.failure) throw this.failure;
    clearTimeout(this.timer);
    const started = performance.now();
    try {
      // A computed path, so that esbuild leaves this require alone and the services stay a bundle of their own.
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded after activation, on purpose
      this.module = require(this.bundle) as Services;
      const loaded = performance.now();
      this.container = new this.module.Container(this.context, this.log, this);
      this.context.subscriptions.push(this.container);
      const missing = [...this.commandIds].filter((id) => !this.handlers.has(id));
      if (missing.length) this.log.error(`No handler for the contributed command(s) ${missing.join(', ')}.`);
      this.log.info(
        `services ready in ${(performance.now() - started).toFixed(1)} ms (loading ${(loaded - started).toFixed(1)} ms)`,
      );
      return this.container;
    } catch (error) {
      this.failure = error as Error;
      const message = `Tenant Migration could not start: ${this.failure.message}`;
      this.log.error(`${message}\n${this.failure.stack ?? ''}`);
      void vscode.window.showErrorMessage(message, 'Show Log').then((b) => b && this.log.show());
      throw this.failure;
    }
  }

  /** The exports: activationMs at once; anything else builds the services first. */
  api(activationMs: number): TenantMigrationApi {
    let api: TenantMigrationApi | undefined;
    const real = () => (api ??= this.module!.createApi(this.services(), activationMs));
    // 'then' stays undefined: VS Code resolves the exports as a promise would, and that must not build anything.
    return new Proxy({ activationMs } as TenantMigrationApi, {
      get: (target, key) =>
        key === 'activationMs'
          ? activationMs
          : typeof key === 'string' && key !== 'then'
            ? Reflect.get(real(), key)
            : Reflect.get(target, key),
    });
  }

  private async execute(id: string, args: unknown[]): Promise<unknown> {
    this.services();
    const handler = this.handlers.get(id);
    if (!handler) throw new Error(`Tenant Migration has no handler for ${id}.`);
    return handler(...args);
  }

  dispose(): void {
    clearTimeout(this.timer);
    for (const d of this.disposables.splice(0).reverse()) d.dispose();
  }
}
