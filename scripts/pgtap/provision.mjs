#!/usr/bin/env node
// Provisions what the exported pgTAP suite runs on: Debian's PostgreSQL 15 server (its extension folder is where
// pgTAP's files go), pgTAP itself and pg_prove. Installed with apt-get when missing and running as root; otherwise
// the command to run is printed. Prints the paths as JSON on stdout with --json.
//
//   node scripts/pgtap/provision.mjs [--json]
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';

export const PGTAP_PACKAGES = ['postgresql-15', 'postgresql-15-pgtap', 'libtap-parser-sourcehandler-pgtap-perl'];
const BIN = '/usr/lib/postgresql/15/bin';
const APT_COMMAND = `apt-get update && apt-get install -y -o DPkg::Lock::Timeout=300 ${PGTAP_PACKAGES.join(' ')}`;

export function pgtapPaths() {
  return {
    bin: BIN,
    psql: `${BIN}/psql`,
    pgProve: '/usr/bin/pg_prove',
    control: '/usr/share/postgresql/15/extension/pgtap.control',
  };
}

function installed(paths) {
  return fs.existsSync(`${paths.bin}/postgres`) && fs.existsSync(paths.control) && fs.existsSync(paths.pgProve);
}

/** Makes sure the packages are installed (installing them when root) and returns pgtapPaths(). */
export function provisionPgtap({ log = (m) => console.error(`[pgtap] ${m}`) } = {}) {
  const paths = pgtapPaths();
  if (installed(paths)) return paths;
  if (process.getuid?.() !== 0)
    throw new Error(`pgTAP, pg_prove or PostgreSQL 15 is missing; run as root:\n  ${APT_COMMAND}`);
  log(`installing ${PGTAP_PACKAGES.join(', ')}: ${APT_COMMAND}`);
  const started = Date.now();
  const r = spawnSync('sh', ['-c', APT_COMMAND], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  if (r.status !== 0 || !installed(paths))
    throw new Error(`apt-get did not install ${PGTAP_PACKAGES.join(', ')} (exit ${r.status ?? r.signal})`);
  log(`installed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return paths;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const paths = provisionPgtap();
  if (process.argv.includes('--json')) process.stdout.write(`${JSON.stringify(paths)}\n`);
}
