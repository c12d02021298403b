// npm test: lint, types, build, the VS Code test host (provisioned into .vscode-test/ on first use: Node 24 and
// code-server from the npm registry, Debian's chromium and libkrb5-dev when root), the engine suite on PostgreSQL 17
// (and 15 in CI or with TEST_PG_MAJORS=17,15), the reliability suite on 17 (npm run test:reliability: faults, rollback
// exactness, bad input, isolation, secrets, concurrency, its extension parts in a real VS Code; its report goes to
// test-results/reliability/RELIABILITY.md), then the extension tests in a real VS Code. Nothing else to install first:
// a fresh clone needs only `npm ci`. A test run never rewrites a committed file.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';

const majors = (process.env.TEST_PG_MAJORS ?? (process.env.CI ? '17,15' : '17')).split(',').map((s) => s.trim());
const run = (title, command, args, env = {}) => {
  console.log(`\n▶ ${title}`);
  const started = Date.now();
  const result = spawnSync(command, args, { stdio: 'inherit', env: { ...process.env, ...env } });
  console.log(
    `◀ ${title}: ${result.status === 0 ? 'ok' : 'FAILED'} in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
  if (result.status !== 0) process.exit(result.status ?? 1);
};

run("lint (ESLint, with the import boundaries, and Prettier's formatting)", 'npm', ['run', 'lint']);
run('type check', 'npx', ['tsc', '-p', 'tsconfig.json']);
run('type check (webview)', 'npx', ['tsc', '-p', 'tsconfig.webview.json']);
run('build', 'node', ['scripts/build.mjs']);
run('VS Code test host (cached in .vscode-test/)', 'node', ['scripts/vscode-host/provision.mjs']);
for (const major of majors) {
  run(
    `engine, CLI, SQL editor and protocol tests on PostgreSQL ${process.env.TEST_DATABASE_URL ? '(TEST_DATABASE_URL)' : major}`,
    'npx',
    ['mocha', 'test/{engine,cli,sql-editor,protocol}/**/*.test.ts'],
    { TEST_PG_MAJOR: major },
  );
  if (major === '17')
    run(
      'reliability suite (faults, rollback exactness, bad input, isolation, secrets, concurrency) → test-results/reliability/RELIABILITY.md',
      'npm',
      ['run', 'test:reliability'],
      { TEST_PG_MAJOR: major },
    );
  if (process.env.TEST_DATABASE_URL) break;
}
if (fs.existsSync('test/vscode/run-all.mjs'))
  run('extension tests in a real VS Code', 'node', ['test/vscode/run-all.mjs']);
