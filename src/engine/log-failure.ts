// For a failure the engine goes on after (a cleanup, a best-effort record): it is logged, never dropped in silence.
import type { Logger } from './events';
import { redact } from './redact';

export function logFailure(logger: Logger, what: string, level: 'warn' | 'debug' = 'warn'): (error: unknown) => void {
  return (error) => logger[level](`${what}: ${redact(error instanceof Error ? error.message : String(error))}`);
}
