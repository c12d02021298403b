// Runs in-host suites in an UNTRUSTED workspace: like run-host-tests.js, but with Workspace Trust left on (the
// reference runner and @vscode/test-electron both pass --disable-workspace-trust).
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { startVSCode } = require('./harness.js');
const NOISE =
  /ENOTFOUND open-vsx\.org|authentication provider 'github'|^Canceled: Canceled|Creating a socket|AccountPolicyGate|reconnection-grace-time|Updating additional builtin|Service Worker|AgentHost|workbench contribution/;

export async function runUntrusted({
  extensionDevelopmentPath,
  extensionTestsPath,
  workspace,
  env,
  timeoutMs = 5 * 60_000,
}) {
  const vsc = await startVSCode({ extensionDevelopmentPath, extensionTestsPath, workspace, trust: false, env });
  try {
    return await new Promise((resolve, reject) => {
      setTimeout(
        () => reject(new Error(`untrusted-workspace tests timed out after ${timeoutMs / 1000} s`)),
        timeoutMs,
      ).unref();
      vsc.page
        .exposeFunction('codeAutomationLog', (_type, args) => {
          if (!NOISE.test(String(args[0]))) console.log(...args);
        })
        .then(() => vsc.page.exposeFunction('codeAutomationExit', (code) => resolve(code)))
        .then(() => vsc.page.goto(vsc.url))
        .catch(reject);
    });
  } finally {
    await vsc.close();
  }
}
