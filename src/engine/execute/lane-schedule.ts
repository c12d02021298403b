// Which unit of the script may start next, on which of the runner's sessions: lanes side by side, the rest alone.
import type { ExecutionUnit } from './units';

type Unit = Pick<ExecutionUnit, 'lane' | 'horizon'>;

/**
 * The script's units in blocks: consecutive units of one lane, or of none. A block runs start to finish on one
 * session (its SETs and statements belong together). A block starts when every unit above it that it depends on is
 * done: its own lane's, the lanes it comes after, and every unit outside a lane; a block outside any lane depends on
 * everything above it, runs on the first session, and nothing below it starts before it is done.
 * Within a block, a unit starts only beside units that leave it the server's horizon (classify.ts, HorizonUse): a
 * VACUUM or a CONCURRENTLY build does not start while another session runs a statement that holds one snapshot
 * throughout, and no such statement starts while a CONCURRENTLY build runs (batches that commit as they go run beside
 * anything); a unit that waits for the horizon goes before any later unit that would hold it.
 */
export class LaneSchedule {
  readonly blocks: number[][] = [];
  private readonly blockOf: number[] = [];
  private readonly taken = new Set<number>();
  private readonly done: boolean[];
  private readonly running = new Map<number, number>();
  private readonly waiting = new Map<number, number>();

  constructor(
    private readonly units: readonly Unit[],
    readonly width: number,
  ) {
    this.done = units.map(() => false);
    units.forEach((u, i) => {
      const previous = units[i - 1];
      if (i === 0 || previous!.lane?.id !== u.lane?.id) this.blocks.push([]);
      this.blocks.at(-1)!.push(i);
      this.blockOf.push(this.blocks.length - 1);
    });
  }

  get finished(): boolean {
    return this.taken.size === this.blocks.length;
  }

  /** The first block the worker may take now (it is then the worker's), or undefined. */
  takeBlock(worker: number): number[] | undefined {
    for (let b = 0; b < this.blocks.length; b++) {
      if (this.taken.has(b)) continue;
      const first = this.blocks[b]![0]!;
      if (this.units[first]!.lane === undefined && worker !== 0) continue;
      if (!this.dependenciesDone(first)) {
        // With one session, the script runs in its order: nothing passes a block that cannot start.
        if (this.width === 1) return undefined;
        continue;
      }
      this.taken.add(b);
      return this.blocks[b];
    }
    return undefined;
  }

  /** Whether the worker's next unit may start beside what the other workers are running (and marks it waiting if not). */
  mayStart(unit: number, worker: number): boolean {
    const u = this.units[unit]!;
    for (const [other, r] of this.running) {
      if (other === worker) continue;
      const running = this.units[r]!;
      if (u.horizon.needs !== 'none' && running.horizon.holds) return this.wait(unit, worker);
      if (u.horizon.holds && running.horizon.needs === 'throughout') return this.wait(unit, worker);
    }
    if (u.horizon.holds)
      for (const [other, w] of this.waiting)
        if (other !== worker && w < unit && this.units[w]!.horizon.needs !== 'none') return this.wait(unit, worker);
    this.waiting.delete(worker);
    return true;
  }

  /** The other workers running a unit now. */
  runningBeside(worker: number): number[] {
    return [...this.running.keys()].filter((w) => w !== worker);
  }

  /**
   * The worker's VACUUM, cleared to start, first waits for the other sessions' newer transactions: meanwhile no later
   * unit that holds a snapshot may start beside it (it would keep what the VACUUM is about to free).
   */
  keepHorizonFor(unit: number, worker: number): void {
    this.waiting.set(worker, unit);
  }

  start(unit: number, worker: number): void {
    this.waiting.delete(worker);
    this.running.set(worker, unit);
  }

  finish(unit: number, worker: number): void {
    this.running.delete(worker);
    this.done[unit] = true;
  }

  /** A worker that stops (a failure elsewhere) no longer waits. */
  leave(worker: number): void {
    this.waiting.delete(worker);
    this.running.delete(worker);
  }

  private wait(unit: number, worker: number): false {
    this.waiting.set(worker, unit);
    return false;
  }

  private dependenciesDone(unit: number): boolean {
    const u = this.units[unit]!;
    for (let e = 0; e < unit; e++) {
      if (this.done[e]) continue;
      const earlier = this.units[e]!;
      if (!u.lane || !earlier.lane) return false;
      if (earlier.lane.id === u.lane.id || u.lane.after.includes(earlier.lane.id)) return false;
    }
    return true;
  }
}
