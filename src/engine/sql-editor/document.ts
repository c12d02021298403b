// An editor's view of a SQL file: statements split by PostgreSQL's scanner, each with the expectation written above
// it. After an edit only the statements it touched are scanned again; a file opened for the first time (or an edit
// that moves statement boundaries far away) is split in chunks, one per step(), so an editor never waits for all of a
// large file at once and can show the first statements while the rest is still being split.
import type { ScanToken } from 'libpg-query';
import { ScanError, splitWith, type ScriptItem } from '../script/parse';
import { ChunkPlan } from './chunk-plan';
import { commonPrefix, newlines, shiftItem, splitAroundEdit } from './edit-split';
import { expectationIn, type Expectation } from './expectations';

export type Scan = (text: string) => { tokens: ScanToken[] };

export interface DocumentStatement {
  readonly item: ScriptItem;
  readonly expectation?: Expectation | { error: string };
}

/** About 200 statements of a typical migration script: a few milliseconds of scanning. */
const CHUNK_CHARS = 16 * 1024;

/** A chunk's statements that certainly end in it: the last one only when its ";" (or a meta-command's line end) is in the chunk. */
function completeOnly(region: string, found: ScriptItem[]): ScriptItem[] {
  const last = found.at(-1);
  if (!last) return found;
  const after = region.slice(last.end);
  const ended = last.kind === 'meta' ? after.includes('\n') : /^\s*;/.test(after);
  return ended ? found : found.slice(0, -1);
}

export class SqlDocument {
  private text = '';
  private items: ScriptItem[] = [];
  private current: DocumentStatement[] = [];
  /** The items cover the text up to here (a statement boundary); the rest is split by step(). */
  private splitTo = 0;
  private done = true;
  private readonly plan: ChunkPlan;

  constructor(
    private readonly scan: Scan,
    chunkChars = CHUNK_CHARS,
  ) {
    this.plan = new ChunkPlan(chunkChars);
  }

  /** True when every statement of the text is split (false between start() and the last step()). */
  get complete(): boolean {
    return this.done;
  }

  /** The statements split so far: all of them once complete. */
  get statements(): readonly DocumentStatement[] {
    return this.current;
  }

  /** The whole split at once (for callers that do not slice their work). */
  update(text: string): DocumentStatement[] {
    this.start(text);
    while (!this.step()) {
      /* the next chunk */
    }
    return this.current;
  }

  /**
   * Takes the new text. An edit inside a split file is re-split around the edit right away; otherwise the statements
   * before the first changed character are kept and the rest is left to step().
   * Throws ScanError when the text cannot be scanned (an unterminated quote); the statements before it are kept.
   */
  start(text: string): void {
    const old = this.text;
    this.text = text;
    if (this.done && this.items.length > 0 && old.length > 0) {
      const edited = splitAroundEdit(this.scan, this.items, old, text);
      if (Array.isArray(edited)) {
        this.items = edited;
        this.current = this.items.map((item, i) => this.statementOf(item, i));
        this.splitTo = text.length;
        return;
      }
      this.restartAfter(edited.keep);
    } else {
      // Keep what ends before the first changed character, less the last of those (its ";" may be what changed).
      const prefix = commonPrefix(old, text);
      let keep = 0;
      while (keep < this.items.length && this.items[keep]!.end < prefix) keep++;
      this.restartAfter(Math.max(0, keep - 1));
    }
    this.step();
  }

  /**
   * Scans one chunk (one call of the scanner); true when the whole text is split. Throws ScanError at the start of the
   * statement whose quote, dollar quote or comment is never closed, once every statement before it is split.
   */
  step(): boolean {
    if (this.done) return true;
    const text = this.text;
    const from = this.splitTo;
    const to = this.plan.end(text);
    if (to === undefined) throw this.stopped(from);
    let found: ScriptItem[];
    try {
      found = splitWith(this.scan, text.slice(from, to));
    } catch (error) {
      if (!(error instanceof ScanError)) throw error;
      if (this.plan.failed(to, text.length)) throw this.stopped(from);
      return false;
    }
    if (to === text.length) {
      this.take(from, found);
      this.done = true;
      this.splitTo = text.length;
      return true;
    }
    if (this.take(from, completeOnly(text.slice(from, to), found))) this.plan.startAt(this.splitTo, false);
    else this.plan.scannedNoStatement(to);
    return false;
  }

  /** The error for a text whose statement at `from` never ends (the search is over). */
  private stopped(from: number): ScanError {
    let at = from;
    while (at < this.text.length && /[\s;]/.test(this.text[at]!)) at++;
    return new ScanError(
      'The SQL cannot be scanned from this statement on: a quoted string, dollar quote or comment in it is never closed',
      at,
      this.lineAt(at),
    );
  }

  /** Appends the statements split from a chunk starting at `from`; false when there were none. */
  private take(from: number, trusted: ScriptItem[]): boolean {
    if (trusted.length === 0) return false;
    const last = this.items.at(-1);
    const lineAtFrom = last ? last.line + newlines(this.text, last.start, from) : 1;
    for (const item of trusted) {
      const shifted = shiftItem(item, from, lineAtFrom - 1);
      this.current.push(this.statementOf(shifted, this.items.length));
      this.items.push(shifted);
    }
    this.splitTo = this.items.at(-1)!.end;
    return true;
  }

  private lineAt(offset: number): number {
    const last = this.items.at(-1);
    return last ? last.line + newlines(this.text, last.start, offset) : 1 + newlines(this.text, 0, offset);
  }

  private restartAfter(keep: number): void {
    this.items = this.items.slice(0, keep);
    this.current = this.current.slice(0, keep);
    this.splitTo = keep === 0 ? 0 : this.items[keep - 1]!.end;
    this.plan.startAt(this.splitTo, true);
    this.done = false;
  }

  private statementOf(item: ScriptItem, index: number): DocumentStatement {
    const gapStart = index === 0 ? 0 : this.items[index - 1]!.end;
    return { item, expectation: expectationIn(this.text.slice(gapStart, item.start)) };
  }
}
