#!/usr/bin/env node
// node test/vscode/run-host-tests.js <extensionDevelopmentPath> <extensionTestsPath> [workspace] [--screenshot file]
// Runs an extension's in-host tests (e.g. mocha) inside a real VS Code and exits with their exit code.
// The environment (TEST_DATABASE_URL, ...) is passed on to the server and so to the extension host.
const { startVSCode } = require('./harness');

const TIMEOUT_MS = 10 * 60 * 1000;
// Harmless workbench errors of an offline host (shown anyway with VSCODE_HOST_LOG=1).
const NOISE = /ENOTFOUND open-vsx\.org|authentication provider 'github'|^Canceled: Canceled/;
const USAGE =
  'usage: run-host-tests.js <extensionDevelopmentPath> <extensionTestsPath> [workspace] [--screenshot file]';

async function main(argv) {
  const positional = [];
  let screenshot;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--screenshot') screenshot = argv[++i];
    else if (argv[i].startsWith('--screenshot=')) screenshot = argv[i].slice('--screenshot='.length);
    else positional.push(argv[i]);
  }
  const [dev, tests, workspace] = positional;
  if (!dev || !tests || (argv.includes('--screenshot') && !screenshot)) {
    console.error(USAGE);
    return 2;
  }

  const t0 = Date.now();
  const vsc = await startVSCode({ extensionDevelopmentPath: dev, extensionTestsPath: tests, workspace });
  const shoot = () =>
    screenshot &&
    vsc.page.screenshot({ path: screenshot }).catch((e) => console.error('screenshot failed:', e.message));
  let code = 1;
  try {
    code = await new Promise((resolve, reject) => {
      setTimeout(() => reject(new Error(`test run timed out after ${TIMEOUT_MS / 60000} minutes`)), TIMEOUT_MS).unref();
      // The workbench reports the extension host's console and the tests' exit code through these (smoke-test driver mode).
      vsc.page
        .exposeFunction('codeAutomationLog', (type, args) => {
          if (process.env.VSCODE_HOST_LOG || !NOISE.test(String(args[0]))) console.log(...args);
        })
        .then(() =>
          vsc.page.exposeFunction('codeAutomationExit', async (c) => {
            await shoot();
            resolve(c);
          }),
        )
        .then(() => vsc.page.goto(vsc.url))
        .catch(reject);
    });
  } catch (e) {
    console.error(e.message);
    await shoot();
    console.error('--- code-server log (tail) ---\n' + vsc.serverLog().slice(-4000));
  }
  await vsc.close();
  code = Number.isInteger(code) ? code : 1;
  console.log(`Tests exited with code ${code} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  return code;
}

if (require.main === module) {
  for (const s of ['SIGINT', 'SIGTERM']) process.on(s, () => process.exit(s === 'SIGINT' ? 130 : 143)); // 'exit' hooks reap the server
  main(process.argv.slice(2)).then(
    (c) => process.exit(c),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
module.exports = { main };
