// The plan preview's HTML, without VS Code: its Content Security Policy, nonces, local resources and escaping.
import assert from 'node:assert/strict';
import { contentSecurityPolicy, planPreviewHtml } from '../../src/extension/plan-preview/html';

describe('plan preview protocol', () => {
  describe('planPreviewHtml', () => {
    const cspSource = 'https://*.vscode-cdn.net';
    const nonce = 'c2VjcmV0LW5vbmNlLXZhbHVlLTEy';
    const options = {
      cspSource,
      nonce,
      scriptUri: 'https://file+.vscode-resource.vscode-cdn.net/ext/dist/webview/main.js',
      styleUris: {
        codicons: 'https://file+.vscode-resource.vscode-cdn.net/ext/dist/webview/codicons/codicon.css',
        view: 'https://file+.vscode-resource.vscode-cdn.net/ext/dist/webview/plan-preview.css',
      },
    };
    const html = planPreviewHtml(options);
    const csp =
      /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)?.[1]?.replace(/&#39;|&apos;/g, "'") ??
      '';

    it('has a CSP meta tag, first in the head', () => {
      assert.ok(csp.length > 0, 'no CSP meta tag');
      assert.ok(
        html.indexOf('Content-Security-Policy') < html.indexOf('<link'),
        'the CSP must come before any resource',
      );
    });

    it('allows nothing by default and scripts only by nonce', () => {
      const directives = new Map(
        csp
          .split(';')
          .map((d) => d.trim().split(/\s+/))
          .map(([name, ...sources]) => [name!, sources]),
      );
      assert.deepEqual(directives.get('default-src'), ["'none'"]);
      assert.deepEqual(directives.get('script-src'), [`'nonce-${nonce}'`]);
      assert.deepEqual(directives.get('style-src'), [cspSource]);
      assert.deepEqual(directives.get('font-src'), [cspSource]);
      assert.deepEqual(directives.get('img-src'), [cspSource, 'data:']);
    });

    it("has no 'unsafe-inline', no 'unsafe-eval' and no remote source", () => {
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|unsafe-hashes|strict-dynamic/);
      const sources = csp.split(';').flatMap((d) => d.trim().split(/\s+/).slice(1));
      for (const source of sources) {
        assert.ok(
          source === cspSource || source === "'none'" || source === `'nonce-${nonce}'` || source === 'data:',
          `unexpected source ${source} in ${csp}`,
        );
      }
      assert.equal(contentSecurityPolicy(cspSource, nonce), csp);
    });

    it('gives every <script> the nonce and a src (no inline script), and has no inline style', () => {
      const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
      assert.ok(scripts.length > 0);
      for (const [, attributes, body] of scripts) {
        assert.match(attributes!, new RegExp(`\\bnonce="${nonce}"`));
        assert.match(attributes!, /\bsrc="[^"]+"/);
        assert.equal(body!.trim(), '');
      }
      assert.doesNotMatch(html, /<style\b|\sstyle=|\son[a-z]+=/i);
    });

    it('loads codicons with the id vscode-elements looks for, and only local resources', () => {
      assert.match(html, /<link rel="stylesheet" id="vscode-codicon-stylesheet" href="[^"]+codicon\.css">/);
      for (const [, url] of html.matchAll(/(?:src|href)="([^"]+)"/g))
        assert.ok(url!.startsWith('https://file+.vscode-resource.vscode-cdn.net/'), url);
    });

    it('escapes what it puts in attributes and refuses a weak nonce', () => {
      const hostile = planPreviewHtml({ ...options, scriptUri: 'x"><script>alert(1)</script>' });
      assert.equal([...hostile.matchAll(/<script\b/g)].length, 1);
      assert.throws(() => planPreviewHtml({ ...options, nonce: 'short' }));
      assert.throws(() => planPreviewHtml({ ...options, nonce: `${nonce}' 'unsafe-inline` }));
      assert.throws(() => planPreviewHtml({ ...options, cspSource: "* 'unsafe-inline'" }));
    });
  });
});
