// Engine events as lines in the log: every statement with its outcome, progress, checks and step results.
// Statement text and notices arrive redacted from the engine; the log scrubs every line again.
import { STEP_TITLES, type EngineEvent } from '../../engine/events';
import { formatDuration, formatProgress } from '../checklist/format';
import type { ExtensionLog } from '../log';
import { plural } from '../../shared/format';

export class EventLog {
  private readonly lastProgress = new Map<string, number>();

  constructor(private readonly log: ExtensionLog) {}

  write(event: EngineEvent): void {
    const step = `[${event.step}]`;
    switch (event.type) {
      case 'step-started':
        this.log.info(`${step} ${STEP_TITLES[event.step]}: started`);
        return;
      case 'statement-started': {
        // One line per statement at info (a visible log of every full statement slows the whole window down on a
        // long script); the whole text at debug ("Developer: Set Log Level…"), and always in tenant_migration.audit.
        const where = `${step} statement ${event.index + 1}/${event.total} (line ${event.line}${event.phase ? `, ${event.phase}` : ''})`;
        const first = event.sql.trim().split('\n')[0]!;
        const short = first.length > 140 ? `${first.slice(0, 140)}…` : first;
        this.log.info(`${where}: ${short}${short !== event.sql.trim() && !short.endsWith('…') ? ' …' : ''}`);
        if (short !== event.sql.trim()) this.log.debug(`${where}, in full:\n${indent(event.sql)}`);
        return;
      }
      case 'statement-finished': {
        const outcome =
          event.outcome === 'ok'
            ? `ok in ${formatDuration(event.durationMs)}${event.rows !== null ? `, ${plural(event.rows, 'row')}` : ''}`
            : event.outcome === 'skipped'
              ? 'skipped (a psql meta-command: psql runs it, the server never sees it)'
              : `FAILED after ${formatDuration(event.durationMs)}: ${event.error ?? 'unknown error'}`;
        if (event.outcome === 'error') this.log.error(`${step} statement ${event.index + 1}: ${outcome}`);
        else this.log.info(`${step} statement ${event.index + 1}: ${outcome}`);
        return;
      }
      case 'progress': {
        // Every 10% (and the end) per table, so a long backup or backfill is visible without flooding the log.
        const p = event.progress;
        const tenth = p.total > 0 ? Math.floor((p.done / p.total) * 10) : 10;
        const key = `${event.step}:${p.action}:${p.table}`;
        if (this.lastProgress.get(key) === tenth) return;
        this.lastProgress.set(key, tenth);
        this.log.info(`${step} ${p.action} ${p.table}: ${formatProgress(p)}`);
        return;
      }
      case 'check':
        (event.check.ok
          ? this.log.info.bind(this.log)
          : event.check.severity === 'warning'
            ? this.log.warn.bind(this.log)
            : this.log.error.bind(this.log))(
          `${step} ${event.check.ok ? 'PASS' : event.check.severity === 'warning' ? 'WARN' : 'FAIL'} ${event.check.name}: ${event.check.detail}`,
        );
        return;
      case 'retry':
        this.log.warn(
          `${step} attempt ${event.attempt} could not get a lock (${event.reason}); trying again in ${formatDuration(event.waitMs)}`,
        );
        return;
      case 'notice':
        this.log.info(`${step} ${event.message}`);
        return;
      case 'step-finished': {
        const line = `${step} ${STEP_TITLES[event.step]}: ${event.status} in ${formatDuration(event.durationMs)}${event.rows !== undefined ? `, ${plural(event.rows, 'row')}` : ''} — ${event.summary}`;
        if (event.status === 'failed') this.log.error(`${line}${event.next ? `. Next: ${event.next}` : ''}`);
        else this.log.info(line);
        return;
      }
    }
  }
}

function indent(sql: string): string {
  return sql
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
}
