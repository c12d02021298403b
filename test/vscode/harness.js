// A real VS Code for tests and screenshots, offline: code-server (provisioned into .vscode-test/ by
// scripts/vscode-host/provision.mjs) driven by Debian's headless Chromium through playwright-core.
// Every run gets fresh temp dirs for settings, extensions, XDG config/data/cache, TMPDIR and (unless given) the workspace.
const { spawn, spawnSync } = require('child_process');
const fs = require('fs'),
  os = require('os'),
  path = require('path');
const { pathToFileURL } = require('url');
const { chromium } = require('playwright-core');

const PROVISION = path.join(__dirname, '../../scripts/vscode-host/provision.mjs');

// extensionDevelopmentPath / extensionTestsPath: load an extension from its folder / run its tests. That turns on
//   VS Code's smoke-test driver mode, which it needs but which HIDES notification toasts.
// vsix: VSIX file(s) to install first (normal mode, toasts shown). settings: user settings. env: extra server env
//   (the server and its extension host get process.env too). trust: false keeps Workspace Trust on.
async function startVSCode({
  extensionDevelopmentPath,
  extensionTestsPath,
  vsix = [],
  workspace,
  settings = {},
  env = {},
  trust = true,
} = {}) {
  const { provision } = await import(pathToFileURL(PROVISION).href);
  const host = await provision({ quiet: true }); // a no-op when cached; installs on first use

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vsc-run-'));
  const ws = path.resolve(workspace || path.join(tmp, 'workspace'));
  for (const d of [ws, 'ud/User', 'xdg/config', 'xdg/data', 'xdg/cache', 'tmp'].map((d) => path.resolve(tmp, d)))
    fs.mkdirSync(d, { recursive: true });
  fs.writeFileSync(
    path.join(tmp, 'ud/User/settings.json'),
    JSON.stringify({
      'workbench.startupEditor': 'none',
      'chat.disableAIFeatures': true,
      'telemetry.telemetryLevel': 'off',
      'workbench.secondarySideBar.defaultVisibility': 'hidden',
      'extensions.autoCheckUpdates': false,
      'extensions.autoUpdate': false,
      ...settings,
    }),
  );
  const hermetic = {
    XDG_CONFIG_HOME: path.join(tmp, 'xdg/config'),
    XDG_DATA_HOME: path.join(tmp, 'xdg/data'),
    XDG_CACHE_HOME: path.join(tmp, 'xdg/cache'),
    TMPDIR: path.join(tmp, 'tmp'),
  }; // the extension host's sockets (vscode-ipc-*, vscode-git-*) and tsserver files
  const serverEnv = { ...process.env, ...hermetic, ...env };
  const common = [
    host.codeServerEntry,
    '--config',
    path.join(tmp, 'config.yaml'),
    '--user-data-dir',
    path.join(tmp, 'ud'),
    '--extensions-dir',
    path.join(tmp, 'ext'),
  ];

  for (const v of [].concat(vsix)) {
    const r = spawnSync(host.node24, [...common, '--install-extension', path.resolve(v)], {
      env: serverEnv,
      encoding: 'utf8',
    });
    if (r.status !== 0) throw new Error(`installing ${v} failed: ${r.stdout}${r.stderr}`);
  }

  const dev = !!(extensionDevelopmentPath || extensionTestsPath);
  const server = spawn(
    host.node24,
    [
      ...common,
      '--bind-addr',
      '127.0.0.1:0',
      '--auth',
      'none',
      '--disable-telemetry',
      '--disable-update-check',
      '--disable-getting-started-override',
      ...(trust ? ['--disable-workspace-trust'] : []),
      ...(dev ? ['--vscode-option', 'enable-smoke-test-driver'] : []),
    ], // else the web client ignores extensionDevelopmentPath/TestsPath
    { stdio: ['ignore', 'pipe', 'pipe'], env: serverEnv, detached: true },
  ); // own process group: server + extension host + watchers
  const killGroup = () => {
    try {
      process.kill(-server.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  };
  const onExit = () => {
    killGroup();
    fs.rmSync(tmp, { recursive: true, force: true });
  };
  process.on('exit', onExit); // also reap it if the caller exits without close()

  let log = '';
  const base = await new Promise((res, rej) => {
    const on = (d) => {
      log += d;
      if (process.env.VSCODE_HOST_LOG) process.stderr.write(d);
      const m = /HTTP server listening on (http:\/\/\S+)/.exec(log);
      if (m) res(new URL(m[1]));
    };
    server.stdout.on('data', on);
    server.stderr.on('data', on);
    server.on('exit', (c) => rej(new Error(`code-server exited (${c})\n${log}`)));
    setTimeout(() => rej(new Error('code-server did not start in 60 s\n' + log)), 60000).unref();
  }).catch((e) => {
    onExit();
    process.off('exit', onExit);
    throw e;
  });

  const remote = (p) => `vscode-remote://${base.host}${path.resolve(p)}`; // remote authority must be the host:port the browser uses
  const payload = [['skipWelcome', 'true']];
  if (extensionDevelopmentPath) payload.push(['extensionDevelopmentPath', remote(extensionDevelopmentPath)]);
  if (extensionTestsPath) payload.push(['extensionTestsPath', remote(extensionTestsPath)]);
  const url = `${base.origin}/?folder=${encodeURIComponent(ws)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;

  const browser = await chromium.launch({
    executablePath: host.chromium,
    headless: true,
    env: { ...process.env, ...hermetic },
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  }); // launch() makes its own temp profile
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });

  async function close() {
    await browser.close().catch(() => {});
    if (server.exitCode === null && server.signalCode === null) {
      const exited = new Promise((r) => server.once('exit', r));
      try {
        process.kill(-server.pid, 'SIGTERM');
      } catch {
        /* already gone */
      }
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10000))]);
    }
    onExit(); // SIGKILL stragglers, remove the temp dirs
    process.off('exit', onExit);
  }
  return { page, browser, url, workspace: ws, close, serverLog: () => log };
}

// F1 -> type the command's title -> Enter. Retries until the contributing extension has registered it.
async function runCommand(page, title, timeoutMs = 60000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await page.keyboard.press('F1');
    const input = page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible', timeout: 15000 });
    await input.fill('>' + title);
    try {
      await page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first().waitFor({ timeout: 3000 });
      return page.keyboard.press('Enter');
    } catch {
      await page.keyboard.press('Escape');
      if (Date.now() > deadline) {
        const shot = path.join(os.tmpdir(), `runCommand-failure-${Date.now()}.png`);
        await page.screenshot({ path: shot }).catch(() => {});
        throw new Error(`command '${title}' not found in the palette within ${timeoutMs} ms (screenshot: ${shot})`);
      }
      await page.waitForTimeout(1000);
    }
  }
}

module.exports = { startVSCode, runCommand };
