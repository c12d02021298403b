// Text for the checklist and the progress notification: durations, rows, progress. Pure.
import type { ProgressInfo } from '../../engine/events';
import { progressRows, formatCount } from '../../shared/format';

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s < 10 ? s.toFixed(1) : Math.round(s)} s`;
  const m = Math.floor(s / 60);
  const rest = Math.round(s % 60);
  if (m < 60) return `${m} min${rest ? ` ${rest} s` : ''}`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function formatRows(rows: number): string {
  return `${formatCount(rows)} ${rows === 1 ? 'row' : 'rows'}`;
}

export function percent(p: ProgressInfo): number {
  return p.total > 0 ? Math.min(100, Math.floor((p.done / p.total) * 100)) : 0;
}

/** "12,000 of ~40,000 rows given their org · 30% · 4 s left" */
export function formatProgress(p: ProgressInfo): string {
  const rows = progressRows(p);
  const left =
    p.done >= p.total ? 'done' : p.etaMs === undefined ? 'estimating time left' : `${formatDuration(p.etaMs)} left`;
  return `${rows} · ${percent(p)}% · ${left}`;
}

export function formatTime(iso: string): string {
  const d = new Date(iso);
  const today = new Date().toDateString() === d.toDateString();
  const time = d.toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit', second: '2-digit' });
  return today ? time : `${d.toISOString().slice(0, 10)} ${time}`;
}
