// The plan preview's HTML: a static shell with a strict Content-Security-Policy. No data goes into it: the plan
// arrives by postMessage after the webview says it is ready. Pure (no 'vscode') so plain mocha can test it.

export interface PlanPreviewHtmlOptions {
  /** `webview.cspSource`: the only origin styles and fonts may come from. */
  readonly cspSource: string;
  /** A fresh random nonce per page (base64 or hex), the only way a script may run. */
  readonly nonce: string;
  /** `webview.asWebviewUri(dist/webview/main.js)`. */
  readonly scriptUri: string;
  readonly styleUris: {
    /** `dist/webview/codicons/codicon.css`: loaded with the id vscode-elements' icons look for. */
    readonly codicons: string;
    /** `dist/webview/plan-preview.css`. */
    readonly view: string;
  };
}

const NONCE = /^[A-Za-z0-9+/=_-]{16,}$/;
/** Space-separated host sources, and 'self' (never another quoted keyword such as 'unsafe-inline'). */
const CSP_SOURCE = /^(?:'self'|[^\s;"'<>]+)(?: (?:'self'|[^\s;"'<>]+))*$/;

function attr(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src ${cspSource}`,
    `font-src ${cspSource}`,
    `img-src ${cspSource} data:`,
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}

export function planPreviewHtml(o: PlanPreviewHtmlOptions): string {
  if (!NONCE.test(o.nonce)) throw new Error('planPreviewHtml: the nonce must be at least 16 base64 or hex characters');
  // code-server (VS Code for the web) gives "'self' https://*.vscode-cdn.net": 'self' is the one quoted keyword allowed.
  if (!CSP_SOURCE.test(o.cspSource)) throw new Error('planPreviewHtml: unexpected characters in cspSource');
  return `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="UTF-8">
  <meta http-equiv="Content-Security-Policy" content="${attr(contentSecurityPolicy(o.cspSource, o.nonce))}">
  <meta name="viewport" content="width=device-width, initial-scale=1.0">
  <link rel="stylesheet" id="vscode-codicon-stylesheet" href="${attr(o.styleUris.codicons)}">
  <link rel="stylesheet" href="${attr(o.styleUris.view)}">
  <title>Migration plan</title>
</head>
<body>
  <main id="app" aria-busy="true">
    <p class="empty">Loading the plan…</p>
  </main>
  <script nonce="${attr(o.nonce)}" src="${attr(o.scriptUri)}"></script>
</body>
</html>
`;
}
