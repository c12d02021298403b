// Where the next chunk of a file split chunk by chunk ends. All chunks start at the split point (the end of the last
// whole statement). A chunk grows while a statement or a quoted string runs past its end. Once a chunk reaching the
// end of the text has failed to scan (a quote never closed), a failed chunk that could only grow to the end is
// narrowed down by halving to the first character that does not scan; since that may be a string closed further on,
// the next few places a string, dollar quote or comment can end are tried before the split stops at the statement.

/** How many string ends are tried past the point narrowed to before the split stops at the statement. */
const CLOSERS_TRIED = 64;
const CLOSERS = '\'"$/\n';
/** The search scans at most this many times the rest of the text (a scan that fails costs an eighth of one that does not:
 * the scanner stops at the problem and returns no tokens). */
const SEARCH_BUDGET = 4;
const FAILED_SCAN_COST = 8;

export class ChunkPlan {
  /** Where every chunk starts: the end of the last whole statement. */
  private splitPoint = 0;
  /** A chunk from the split point to here scans (and holds no whole statement). */
  private scansTo = 0;
  /** A chunk from the split point to here does not scan (undefined: none known past scansTo). */
  private failsAt?: number;
  private size: number;
  /** A chunk to the end of the text failed: a failed chunk that cannot grow without reaching the end is narrowed down. */
  private restFails = false;
  private narrowing = false;
  /** Trying string ends: the last one tried, and how many. */
  private closers?: { at: number; tried: number };
  /** What the search may still scan before the split stops at the statement (after an opening quote is typed, all the
   * quotes after it may pair up differently: there is no end to find, only strings to walk through). */
  private budget = Infinity;

  constructor(private readonly chunkChars: number) {
    this.size = chunkChars;
  }

  /** A new split point (statements were split up to it, or the text changed before it). */
  startAt(splitTo: number, textChanged: boolean): void {
    if (textChanged) {
      this.restFails = false;
      this.budget = Infinity;
    } else this.budget -= splitTo - this.splitPoint;
    this.splitPoint = splitTo;
    this.scansTo = splitTo;
    if (textChanged || (this.failsAt !== undefined && this.failsAt <= splitTo)) this.failsAt = undefined;
    this.size = this.chunkChars;
    this.narrowing = false;
    this.closers = undefined;
  }

  /** Where the next chunk ends; undefined when the statement at the split point never ends. */
  end(text: string): number | undefined {
    if (!this.narrowing && this.restFails && this.scansTo + this.size >= text.length) {
      // Growing would reach the end of the text, which is known not to scan.
      this.narrowing = true;
      this.failsAt = Math.min(this.failsAt ?? text.length, text.length);
    }
    let to: number;
    if (this.closers) {
      if (++this.closers.tried > CLOSERS_TRIED) return undefined;
      to = this.closers.at = nextCloser(text, this.closers.at);
    } else if (this.narrowing && this.failsAt! - this.scansTo > 1) to = Math.floor((this.scansTo + this.failsAt!) / 2);
    else if (this.narrowing) {
      this.closers = { at: this.failsAt!, tried: 1 };
      to = this.closers.at = nextCloser(text, this.failsAt!);
    } else to = this.scansTo + this.size;
    to = Math.min(text.length, to);
    if (to < text.length && /[\ud800-\udbff]/.test(text[to - 1]!)) to++; // not between the halves of a character
    if (this.restFails && this.budget < 0) return undefined;
    return to;
  }

  /** The chunk ending at `to` did not scan; true when the split stops here (the statement never ends). */
  failed(to: number, textLength: number): boolean {
    this.budget -= (to - this.splitPoint) / FAILED_SCAN_COST;
    if (this.closers) return to === textLength;
    this.failsAt = Math.min(this.failsAt ?? to, to);
    if (to === textLength && !this.restFails) {
      this.restFails = true;
      this.budget = SEARCH_BUDGET * (textLength - this.splitPoint);
    }
    if (!this.narrowing) this.size *= 2;
    return false;
  }

  /** The chunk ending at `to` scanned but held no whole statement. */
  scannedNoStatement(to: number): void {
    this.budget -= to - this.splitPoint;
    this.scansTo = to;
    if (this.failsAt !== undefined && this.failsAt <= to) this.failsAt = undefined;
    if (this.failsAt === undefined) this.narrowing = false;
    this.closers = undefined;
    if (!this.narrowing) this.size *= 2;
  }
}

/** The position after the next character at or after `after` that can end a quoted string, dollar quote or comment. */
function nextCloser(text: string, after: number): number {
  for (let i = after; i < text.length; i++) if (CLOSERS.includes(text[i]!)) return i + 1;
  return text.length;
}
