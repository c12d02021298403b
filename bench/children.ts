// Starts the writer and the lock monitor as child processes and collects their reports.
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { MonitorReport, WriterReport } from './protocol';

export interface Child<R> {
  /** Asks the child to stop and waits for its report. */
  stop(): Promise<R>;
}

async function start<R>(file: string, startMessage: object): Promise<Child<R>> {
  const child: ChildProcess = fork(path.join(__dirname, file), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let report: Promise<R> | undefined;
  const reportPromise = new Promise<R>((resolve, reject) => {
    child.on('message', (m: { type: string; message?: string }) => {
      if (m.type === 'report') resolve(m as R);
      if (m.type === 'crashed') reject(new Error(`${file} crashed: ${m.message}`));
    });
    child.once('exit', (code) => reject(new Error(`${file} exited (code ${code}) before it reported`)));
  });
  reportPromise.catch(() => undefined);
  await new Promise<void>((resolve, reject) => {
    child.on('message', (m: { type: string; message?: string }) => {
      if (m.type === 'started') resolve();
      if (m.type === 'crashed') reject(new Error(`${file} crashed: ${m.message}`));
    });
    child.once('exit', (code) => reject(new Error(`${file} exited (code ${code}) during start-up`)));
    child.send(startMessage);
  });
  return {
    stop: () => {
      report ??= (async () => {
        child.send({ type: 'stop' });
        const timeout = setTimeout(() => child.kill('SIGKILL'), 120_000);
        try {
          return await reportPromise;
        } finally {
          clearTimeout(timeout);
        }
      })();
      return report;
    },
  };
}

export function startWriter(url: string, rate: number, credentials: number): Promise<Child<WriterReport>> {
  return start<WriterReport>('writer.ts', { type: 'start', url, rate, credentials });
}

export function startMonitor(url: string, intervalMs = 50): Promise<Child<MonitorReport>> {
  return start<MonitorReport>('monitor.ts', { type: 'start', url, intervalMs });
}
