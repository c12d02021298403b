#!/usr/bin/env node
// A stand-in "VS Code executable" for @vscode/test-electron's runTests({ vscodeExecutablePath: <this file> })
// (and @vscode/test-cli's useInstallation.fromPath): turns its command line
//   --extensionDevelopmentPath=<dir> --extensionTestsPath=<file> [folder] [other flags]
// into a run-host-tests.js run in this process (code-server + headless Chromium). Other flags are ignored.
const { main } = require('./run-host-tests');

let dev, tests, folder;
for (const a of process.argv.slice(2)) {
  const m = /^--(extensionDevelopmentPath|extensionTestsPath)=(.*)$/.exec(a);
  if (m) {
    if (m[1] === 'extensionDevelopmentPath') dev = dev || m[2];
    else tests = m[2];
  } // first development path only
  else if (!a.startsWith('-')) folder = folder || a;
}
if (!dev || !tests) {
  console.error('code-shim: needs --extensionDevelopmentPath= and --extensionTestsPath=');
  process.exit(2);
}
for (const s of ['SIGINT', 'SIGTERM']) process.on(s, () => process.exit(s === 'SIGINT' ? 130 : 143));
main([dev, tests, ...(folder ? [folder] : [])]).then(
  (c) => process.exit(c),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
