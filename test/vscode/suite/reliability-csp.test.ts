// Issue 6's webview check in the real VS Code: the plan preview's CSP allows scripts only by the page's nonce and no
// remote source.
// Run by test/vscode/run-reliability.mjs from `npm run test:reliability`, which puts its figures into test-results/reliability/RELIABILITY.md.
import assert from 'node:assert/strict';
import path from 'node:path';
import * as vscode from 'vscode';
import type { TenantMigrationApi } from '../../../src/extension/api';
import { figures } from '../../reliability/support/figures';
import { EXTENSION_ID, addProfile, extension, freshDatabase, waitFor } from './helpers';

const fig = figures(__filename);

describe('reliability in the extension: webview CSP', () => {
  let api: TenantMigrationApi;
  before(async () => {
    ({ api } = await extension());
  });

  it("the plan preview webview: scripts only with the page's nonce, no remote source", async function () {
    this.timeout(90_000);
    const database = await freshDatabase('csp');
    await addProfile('csp', database);
    await vscode.commands.executeCommand('tenantMigration.previewPlan');
    const panel = await waitFor('the plan preview', () => api.planPreview());
    try {
      await waitFor(
        'the webview to receive the plan',
        () => panel.posted.find((m) => m.type === 'plan' || m.type === 'error'),
        45_000,
      );
      // What VS Code was given to render (the panel keeps its WebviewPanel private).
      const html = (panel as unknown as { panel: vscode.WebviewPanel }).panel.webview.html;
      const cspSource = (panel as unknown as { panel: vscode.WebviewPanel }).panel.webview.cspSource;
      const metas = [...html.matchAll(/<meta\s+http-equiv="Content-Security-Policy"\s+content="([^"]*)"/gi)];
      assert.equal(metas.length, 1, 'one CSP meta tag');
      const csp = metas[0]![1]!.replace(/&#39;|&apos;/g, "'").replace(/&amp;/g, '&');
      const directives = new Map(
        csp
          .split(';')
          .map((d) => d.trim().split(/\s+/))
          .filter((d) => d[0])
          .map(([name, ...values]) => [name!, values]),
      );
      assert.deepEqual(directives.get('default-src'), ["'none'"]);
      const scriptSrc = directives.get('script-src') ?? [];
      assert.equal(scriptSrc.length, 1, `script-src is the nonce alone: ${scriptSrc.join(' ')}`);
      const nonce = /^'nonce-([A-Za-z0-9+/=]{16,})'$/.exec(scriptSrc[0]!)?.[1];
      assert.ok(nonce, `script-src is a nonce: ${scriptSrc[0]}`);
      const allowedSources = new Set(["'none'", "'self'", 'data:', `'nonce-${nonce}'`, ...cspSource.split(/\s+/)]);
      const otherSources = [...directives.values()].flat().filter((v) => !allowedSources.has(v));
      assert.deepEqual(otherSources, [], "no source beyond the webview's own resources");
      assert.ok(
        ![...directives.values()].flat().some((v) => /unsafe-(inline|eval)|^\*$|^https?:$/.test(v)),
        'nothing unsafe',
      );
      const scripts = [...html.matchAll(/<script\b([^>]*)>/gi)].map((m) => m[1]!);
      const withoutNonce = scripts.filter(
        (attrs) => !new RegExp(`\\snonce="${nonce.replace(/[+/=]/g, (c) => `\\${c}`)}"`).test(attrs),
      );
      // Every URL the page loads is a webview resource URI of this extension's dist/webview folder.
      const urls = [...html.matchAll(/\s(?:src|href)="([^"]*)"/gi)].map((m) => m[1]!.replace(/&amp;/g, '&'));
      const webviewRoot = (panel as unknown as { panel: vscode.WebviewPanel }).panel.webview
        .asWebviewUri(
          vscode.Uri.file(path.join(vscode.extensions.getExtension(EXTENSION_ID)!.extensionPath, 'dist', 'webview')),
        )
        .toString();
      const local = (u: string) => u.startsWith(`${webviewRoot}/`);
      const remote = urls.filter((u) => !local(u));
      const inlineHandlers = [...html.matchAll(/\son[a-z]+\s*=/gi)].length;
      fig.record({
        kind: 'csp',
        scripts: scripts.length,
        withoutNonce: withoutNonce.length + inlineHandlers,
        remoteSources: remote.length,
        ok: withoutNonce.length + inlineHandlers + remote.length === 0 && scripts.length > 0,
      });
      assert.ok(scripts.length > 0, 'the page has its script');
      assert.deepEqual(withoutNonce, [], 'a script without the nonce');
      assert.equal(inlineHandlers, 0, 'no inline event handler');
      assert.ok(urls.length >= 2, `the page loads its script and styles: ${urls.join(', ')}`);
      assert.deepEqual(remote, [], 'a remote source');
    } finally {
      panel.dispose();
    }
  });
});
