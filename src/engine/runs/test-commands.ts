// The spec's test commands: each in a shell, in its folder, with DATABASE_URL set; the output's tail, redacted.
import path from 'node:path';
import { spawn } from 'node:child_process';
import type { CheckResult } from '../events';
import { redact } from '../redact';

export interface TestCommand {
  readonly name: string;
  readonly command: string;
  /** Relative to the spec's folder. */
  readonly cwd?: string;
}

export interface TestCommandOptions {
  /** The spec's folder. */
  readonly folder: string;
  readonly databaseUrl?: string;
  readonly signal?: AbortSignal;
  /** The whole output (redacted), for the log. */
  readonly onOutput: (message: string) => void;
}

const KEPT_OUTPUT = 4000;

export function runTestCommand(test: TestCommand, options: TestCommandOptions): Promise<CheckResult> {
  return new Promise((resolve) => {
    const env = { ...process.env, ...(options.databaseUrl ? { DATABASE_URL: options.databaseUrl } : {}) };
    const child = spawn(test.command, {
      shell: true,
      cwd: path.resolve(options.folder, test.cwd ?? '.'),
      env,
      signal: options.signal,
    });
    let output = '';
    const keep = (d: Buffer) => {
      output = (output + d.toString()).slice(-KEPT_OUTPUT);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', (e) => resolve({ name: test.name, ok: false, detail: redact(e.message) }));
    child.on('close', (code) => {
      const tail = redact(output.trim().split('\n').slice(-3).join(' | '));
      options.onOutput(`${test.name}: exit ${code}\n${redact(output)}`);
      resolve({ name: test.name, ok: code === 0, detail: `exit ${code}${tail ? `: ${tail}` : ''}` });
    });
  });
}
