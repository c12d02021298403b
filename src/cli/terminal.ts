// The live checklist in a terminal: one line per step, a progress bar on backfills, failures with what to do next.
import type { EngineEvent } from '../engine/events';
import { STEP_TITLES } from '../engine/events';
import { plural, progressRows } from '../shared/format';

const isTty = () => process.stderr.isTTY === true;
const color = (code: number, text: string) => (isTty() ? `\x1b[${code}m${text}\x1b[0m` : text);
const green = (t: string) => color(32, t);
const red = (t: string) => color(31, t);
const dim = (t: string) => color(2, t);
const yellow = (t: string) => color(33, t);

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

export function progressBar(fraction: number, width = 24): string {
  const filled = Math.round(Math.max(0, Math.min(1, fraction)) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}

export class TerminalChecklist {
  private progressShown = false;
  private lastPlainPercent = new Map<string, number>();
  private readonly active = new Map<string, { table: string; fraction: number }>();
  private readonly failures: { summary: string; next?: string }[] = [];

  constructor(private readonly out: NodeJS.WritableStream = process.stderr) {}

  private clearProgress(): void {
    if (this.progressShown && isTty()) this.out.write('\r\x1b[2K');
    this.progressShown = false;
  }

  /**
   * The failed steps' reasons and what to do next, except what the command's error line (printed after this) says
   * already.
   */
  finish(error?: { message: string; next: string }): void {
    for (const f of this.failures.splice(0)) {
      if (!error?.message.includes(f.summary)) this.line(`  ${red('✘')} ${f.summary}`);
      if (f.next && f.next !== error?.next) this.line(`  ${yellow('→')} ${f.next}`);
    }
  }

  /**
   * One line for the tables in progress (the migration runs two at a time): the latest one in full, the others by
   * their percentage, cut to the terminal's width; a table that is done gets a line of its own.
   */
  private showProgress(key: string, table: string, fraction: number, text: string): void {
    if (fraction >= 1) {
      this.active.delete(key);
      this.line(text);
      return;
    }
    this.active.set(key, { table, fraction });
    const others = [...this.active]
      .filter(([k]) => k !== key)
      .map(([, a]) => `${a.table} ${Math.round(a.fraction * 100)}%`);
    const columns = (this.out as { columns?: number }).columns ?? 120;
    const shown = [text, ...others].join('  ·  ');
    this.out.write(`\r\x1b[2K${shown.length > columns - 1 ? `${shown.slice(0, columns - 2)}…` : shown}`);
    this.progressShown = true;
  }

  line(text: string): void {
    this.clearProgress();
    this.out.write(`${text}\n`);
  }

  handle = (event: EngineEvent): void => {
    switch (event.type) {
      case 'step-started':
        this.line(`${dim('…')} ${STEP_TITLES[event.step]}`);
        break;
      case 'step-finished': {
        this.active.clear();
        const mark = event.status === 'done' ? green('✔') : event.status === 'skipped' ? dim('–') : red('✘');
        const rows = event.rows !== undefined ? `, ${plural(event.rows, 'row')}` : '';
        if (event.status === 'failed') {
          // Why it failed and what to do are printed once, at the end (finish): most often they are the command's error.
          this.line(`${mark} ${STEP_TITLES[event.step]} ${dim(`(${formatDuration(event.durationMs)}${rows})`)} failed`);
          this.failures.push({ summary: event.summary, next: event.next });
        } else {
          this.line(
            `${mark} ${STEP_TITLES[event.step]} ${dim(`(${formatDuration(event.durationMs)}${rows})`)} ${event.summary}`,
          );
        }
        break;
      }
      case 'check':
        if (!event.check.ok)
          this.line(
            `  ${event.check.severity === 'warning' ? yellow('!') : red('✘')} ${event.check.name}: ${event.check.detail}`,
          );
        break;
      case 'progress': {
        const p = event.progress;
        const fraction = p.total > 0 ? p.done / p.total : 1;
        const eta = p.etaMs !== undefined && fraction < 1 ? `, ${formatDuration(p.etaMs)} left` : '';
        const text = `  ${p.table} ${progressBar(fraction)} ${Math.round(fraction * 100)}% ${progressRows(p)}${eta}`;
        if (isTty()) {
          this.showProgress(`${p.action}:${p.table}`, p.table, fraction, text);
        } else {
          const percent = Math.floor(fraction * 4) * 25;
          const key = `${event.step}:${p.action}:${p.table}`;
          if (this.lastPlainPercent.get(key) !== percent) {
            this.lastPlainPercent.set(key, percent);
            this.line(text);
          }
        }
        break;
      }
      case 'retry':
        this.line(
          `  ${yellow('↻')} waiting ${formatDuration(event.waitMs)} for a lock (attempt ${event.attempt}): ${event.reason}`,
        );
        break;
      default:
        break;
    }
  };
}
