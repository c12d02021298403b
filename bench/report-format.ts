// The units the benchmark reports are written in, and the machine a run was measured on.
import type { Machine } from './machine';

export const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
export const msf = (ms: number) => `${Math.round(ms)} ms`;
export const mbf = (bytes?: number) =>
  bytes === undefined
    ? '—'
    : bytes >= 1024 * 1024
      ? `${(bytes / 1024 / 1024).toFixed(2)} MB`
      : `${(bytes / 1024).toFixed(0)} KB`;
export const num = (n: number) => n.toLocaleString('en-US');

export function median(xs: number[]): number | undefined {
  const sorted = [...xs].sort((a, b) => a - b);
  if (sorted.length === 0) return undefined;
  const mid = sorted.length / 2;
  return sorted.length % 2 ? sorted[(sorted.length - 1) / 2]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function machineLines(m: Machine): string[] {
  return [
    `- Date: ${m.date}`,
    `- Machine: ${m.cpus} CPUs (${m.cpuModel}), ${m.memoryGb} GB memory, ${m.os}; Node ${m.node}`,
    `- Server: ${m.postgres}; ${m.settings}`,
    `- Code: ${m.revision}`,
  ];
}
