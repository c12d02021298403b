// The runner's resident memory during a scenario: sampled every 100 ms, plus the kernel's high-water mark
// (VmHWM, reset per scenario through /proc/self/clear_refs where the kernel allows it).
import fs from 'node:fs';

export interface MemoryStats {
  readonly startMb: number;
  readonly peakMb: number;
  /** The kernel's peak RSS since the reset; undefined where it could not be reset. */
  readonly hwmMb?: number;
}

const mb = (bytes: number) => Math.round(bytes / 1048576);

function vmHwm(): number | undefined {
  const match = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
  return match ? Number(match[1]) * 1024 : undefined;
}

export function sampleMemory(): { stop(): MemoryStats } {
  let reset = false;
  try {
    fs.writeFileSync('/proc/self/clear_refs', '5');
    reset = true;
  } catch {
    reset = false; // not Linux, or not allowed: the sampled peak still says it
  }
  const start = process.memoryUsage.rss();
  let peak = start;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 100);
  return {
    stop: () => {
      clearInterval(timer);
      peak = Math.max(peak, process.memoryUsage.rss());
      const hwm = reset ? vmHwm() : undefined;
      return { startMb: mb(start), peakMb: mb(peak), hwmMb: hwm === undefined ? undefined : mb(hwm) };
    },
  };
}
