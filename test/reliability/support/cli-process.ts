// A CLI run as a child process the test can watch and kill (test/support/cli.ts runs it to completion).
import { spawn, type ChildProcess } from 'node:child_process';
import { CLI, type CliResult } from '../../support/cli';

export interface RunningCli {
  readonly child: ChildProcess;
  readonly done: Promise<CliResult & { signal: NodeJS.Signals | null }>;
  output(): { stdout: string; stderr: string };
}

/** Starts `node dist/cli.js ARGS` with nothing inherited that names a database or a password. */
export function startCli(cwd: string, args: string[], env: Record<string, string | undefined> = {}): RunningCli {
  const clean: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (!/^(PG[A-Z]*|DATABASE_URL|TEST_DATABASE_URL)$/.test(k)) clean[k] = v;
  for (const [k, v] of Object.entries(env)) if (v !== undefined) clean[k] = v;
  const child = spawn(process.execPath, [CLI, ...args], { cwd, env: clean, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => {
    stdout += d.toString('utf8');
  });
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString('utf8');
  });
  child.stdin!.end();
  const done = new Promise<CliResult & { signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) =>
      resolve({
        code,
        signal,
        stdout,
        stderr,
        errorLines: stderr.split('\n').filter((l) => l.startsWith('tenant-migrate:')),
      }),
    );
  });
  return { child, done, output: () => ({ stdout, stderr }) };
}

export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  timeoutMs = 30_000,
  everyMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
