// The JSONL event log in the workspace (.tenant-migration/runs/): one line per event, redacted.
import fs from 'node:fs';
import path from 'node:path';
import type { EngineEvent } from './events';
import { redact } from './redact';

export class JsonlLog {
  readonly file: string;
  private fd: number | undefined;

  constructor(folder: string, command: string) {
    fs.mkdirSync(folder, { recursive: true });
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    this.file = path.join(folder, `${stamp}-${command}.jsonl`);
  }

  write(entry: EngineEvent | { type: 'run' | 'run-warning'; [key: string]: unknown }): void {
    this.fd ??= fs.openSync(this.file, 'a');
    fs.writeSync(this.fd, redact(JSON.stringify({ at: new Date().toISOString(), ...entry })) + '\n');
  }

  close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }
}
