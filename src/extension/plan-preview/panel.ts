// The plan preview's host: one webview panel, a strict CSP, the state sent by postMessage after the webview's
// `ready`, and every message from the webview validated before anything acts on it.
import crypto from 'node:crypto';
import * as vscode from 'vscode';
import type { Plan } from '../../engine/plan';
import { redact } from '../../engine/redact';
import { parseWebviewMessage, toPlanView, type HostMessage, type WebviewMessage } from '../../shared/protocol';
import { PreviewChannel } from './channel';
import { planPreviewHtml } from './html';

export interface PlanPreviewDeps {
  readonly extensionUri: vscode.Uri;
  readonly log: vscode.LogOutputChannel;
  /** Read-only: the plan for the current spec and connection (the exact one; a first answer to `onFirstAnswer`). */
  loadPlan(onFirstAnswer?: (plan: Plan) => void): Promise<Plan>;
  /** SQL the operator fills in: `INSERT INTO <mapping table> …` for the unmapped keys. */
  mappingStub(): Promise<string>;
  /** "Tenant Migration: Run" (it asks for confirmation itself). */
  run(): Thenable<unknown>;
  /** "Tenant Migration: Generate Script". */
  generateScript(): Thenable<unknown>;
  /** Opens the migration script with the cursor on a 1-based line. */
  openScriptAt(line: number): Thenable<unknown>;
}

const VIEW_TYPE = 'tenantMigration.planPreview';

function errorText(error: unknown): { message: string; next?: string } {
  const message = redact(error instanceof Error ? error.message : String(error));
  const next =
    typeof (error as { next?: unknown } | null)?.next === 'string'
      ? redact((error as { next: string }).next)
      : undefined;
  return next ? { message, next } : { message };
}

export class PlanPreviewPanel implements vscode.Disposable {
  static readonly viewType = VIEW_TYPE;
  private static current: PlanPreviewPanel | undefined;

  /** Shows the preview (creating it, or revealing the open one with these deps) and reads the plan. */
  static show(deps: PlanPreviewDeps): PlanPreviewPanel {
    const open = PlanPreviewPanel.current;
    if (open) {
      open.deps = deps;
      open.panel.reveal();
      void open.refresh();
      return open;
    }
    const root = vscode.Uri.joinPath(deps.extensionUri, 'dist', 'webview');
    const panel = vscode.window.createWebviewPanel(VIEW_TYPE, 'Migration Plan', vscode.ViewColumn.Active, {
      enableScripts: true,
      enableCommandUris: false,
      enableFindWidget: true,
      retainContextWhenHidden: false,
      localResourceRoots: [root],
    });
    PlanPreviewPanel.current = new PlanPreviewPanel(panel, deps, root);
    return PlanPreviewPanel.current;
  }

  /** The open preview, if any (for tests and for commands that want to refresh it). */
  static get active(): PlanPreviewPanel | undefined {
    return PlanPreviewPanel.current;
  }

  /** For tests: every message posted to the webview, in order (after the handshake; replays included). */
  readonly posted: HostMessage[] = [];
  private readonly receivedEmitter = new vscode.EventEmitter<WebviewMessage>();
  /** For tests: each validated message from the webview, before it is acted on. */
  readonly onDidReceive = this.receivedEmitter.event;
  private readonly postedEmitter = new vscode.EventEmitter<HostMessage>();
  /** For tests: fires for each message as it is posted to the webview. */
  readonly onDidPost = this.postedEmitter.event;
  private readonly disposeEmitter = new vscode.EventEmitter<void>();
  readonly onDidDispose = this.disposeEmitter.event;

  private readonly subscriptions: vscode.Disposable[] = [];
  private readonly channel = new PreviewChannel((message) => this.deliver(message));
  private disposed = false;
  /** Bumped by each load, so a slow older load never overwrites a newer one. */
  private generation = 0;

  private constructor(
    private readonly panel: vscode.WebviewPanel,
    private deps: PlanPreviewDeps,
    root: vscode.Uri,
  ) {
    const webview = panel.webview;
    const uri = (...path: string[]) => webview.asWebviewUri(vscode.Uri.joinPath(root, ...path)).toString();
    webview.html = planPreviewHtml({
      cspSource: webview.cspSource,
      nonce: crypto.randomBytes(18).toString('base64'),
      scriptUri: uri('main.js'),
      styleUris: { codicons: uri('codicons', 'codicon.css'), view: uri('plan-preview.css') },
    });
    this.subscriptions.push(
      this.receivedEmitter,
      this.postedEmitter,
      panel.onDidDispose(() => this.cleanUp()),
      // Without retainContextWhenHidden a hidden webview is torn down: hold messages until it is back and ready.
      panel.onDidChangeViewState(() => {
        if (!panel.visible) this.channel.onHidden();
      }),
      webview.onDidReceiveMessage((data: unknown) => this.receive(data)),
    );
    this.deps.log.info('Plan preview opened');
    void this.refresh();
  }

  /** Reads the plan again and shows it; errors are shown in the preview with what to do next. */
  async refresh(): Promise<void> {
    const generation = ++this.generation;
    this.post({ type: 'busy', message: 'Reading the plan from the database…' });
    try {
      const current = () => generation === this.generation && !this.disposed;
      const first = (p: Plan) => {
        if (current()) this.post({ type: 'plan', plan: toPlanView(p) });
      };
      const plan = toPlanView(await this.deps.loadPlan(first));
      if (current()) this.post({ type: 'plan', plan });
    } catch (error) {
      if (generation !== this.generation || this.disposed) return;
      const { message, next } = errorText(error);
      this.deps.log.error(`Plan preview: could not read the plan: ${message}`);
      this.post({
        type: 'error',
        message: `Could not read the plan: ${message}`,
        next: next ?? 'Check the connection and tenant-migration.json, then refresh.',
      });
    }
  }

  private receive(data: unknown): void {
    const parsed = parseWebviewMessage(data);
    if (!parsed.ok) {
      this.deps.log.warn(`Plan preview: ignored a message from the webview: ${parsed.error}`);
      return;
    }
    this.receivedEmitter.fire(parsed.message);
    void this.handle(parsed.message).catch((error: unknown) => {
      const { message, next } = errorText(error);
      this.deps.log.error(`Plan preview: "${parsed.message.type}" failed: ${message}`);
      this.post({ type: 'error', message, next });
    });
  }

  private async handle(message: WebviewMessage): Promise<void> {
    switch (message.type) {
      case 'ready':
        this.channel.onReady();
        return;
      case 'refresh':
        return this.refresh();
      case 'run':
        this.post({ type: 'busy', message: 'Running the migration: follow it in the checklist…' });
        try {
          await this.deps.run();
        } finally {
          await this.refresh();
        }
        return;
      case 'generateScript':
        await this.deps.generateScript();
        return this.refresh();
      case 'writeMappingStub': {
        const content = await this.deps.mappingStub();
        const document = await vscode.workspace.openTextDocument({ language: 'sql', content });
        await vscode.window.showTextDocument(document, { viewColumn: vscode.ViewColumn.Beside, preview: false });
        return;
      }
      case 'openScriptAt':
        await this.deps.openScriptAt(message.line);
        return;
    }
  }

  private post(message: HostMessage): void {
    if (!this.disposed) this.channel.post(message);
  }

  private deliver(message: HostMessage): void {
    this.posted.push(message);
    this.postedEmitter.fire(message);
    void this.panel.webview.postMessage(message).then(
      (delivered) => {
        if (!delivered && !this.disposed)
          this.deps.log.debug(
            `Plan preview: "${message.type}" not delivered (webview hidden); it is sent again when the webview is back`,
          );
      },
      (error: unknown) => {
        if (!this.disposed)
          this.deps.log.warn(`Plan preview: could not post "${message.type}": ${errorText(error).message}`);
      },
    );
  }

  dispose(): void {
    this.panel.dispose();
  }

  private cleanUp(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.generation++;
    if (PlanPreviewPanel.current === this) PlanPreviewPanel.current = undefined;
    this.disposeEmitter.fire();
    this.disposeEmitter.dispose();
    for (const d of this.subscriptions.splice(0)) d.dispose();
    this.deps.log.info('Plan preview closed');
  }
}
