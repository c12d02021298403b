// Where the next chunk of a file split chunk by chunk ends. Chunks grow while a statement or a quoted string runs past
// them. When the rest of the text does not scan (a quote never closed), a search narrows down to the statement that
// does not, so that every statement before it is still split: halving between a chunk end that scans and one that
// does not, then, in case that end is only inside a string closed further on, trying the next few places a string,
// dollar quote or comment can end.

/** How many string ends the search tries past the point it narrowed to before it gives up on the statement. */
const CLOSERS_TRIED = 64;
const CLOSERS = '\'"$/\n';

interface Search {
  /** A chunk from the split point to here scans (no whole statement in it). */
  ok: number;
  /** A chunk from the split point to here does not scan. */
  fails: number;
  /** The string end tried last, and how many were tried, once narrowed to one character. */
  closer?: number;
  tried?: number;
}

export class ChunkPlan {
  private size: number;
  private search?: Search;

  constructor(private readonly chunkChars: number) {
    this.size = chunkChars;
  }

  reset(): void {
    this.size = this.chunkChars;
    this.search = undefined;
  }

  /** Where the chunk from `from` ends; undefined when the search gives up (the statement at `from` never ends). */
  end(text: string, from: number): number | undefined {
    const search = this.search;
    let to: number;
    if (!search) to = from + this.size;
    else if (!narrowed(search)) to = Math.floor((search.ok + search.fails) / 2);
    else {
      search.tried = (search.tried ?? 0) + 1;
      if (search.tried > CLOSERS_TRIED) return undefined;
      to = search.closer = nextCloser(text, search.closer ?? search.fails);
    }
    to = Math.min(text.length, to);
    if (to < text.length && /[\ud800-\udbff]/.test(text[to - 1]!)) to++; // not between the halves of a character
    return to;
  }

  /** The chunk ending at `to` did not scan; true when that ends the search (the statement never ends). */
  failed(from: number, to: number, textLength: number): boolean {
    const whole = to === textLength;
    const search = this.search;
    if (!search) {
      if (whole) this.search = { ok: from, fails: to };
      else this.size *= 2;
      return false;
    }
    if (narrowed(search)) return whole;
    search.fails = to;
    return false;
  }

  /** The chunk ending at `to` scanned; `splitTo` is where its whole statements end (unchanged when it had none). */
  scanned(to: number, tookStatements: boolean, splitTo: number, textLength: number): void {
    const search = this.search;
    if (!search) {
      this.size = tookStatements ? this.chunkChars : this.size * 2;
      return;
    }
    if (tookStatements) this.search = { ok: splitTo, fails: narrowed(search) || search.fails <= splitTo ? textLength : search.fails };
    else if (narrowed(search)) this.search = { ok: to, fails: textLength };
    else search.ok = to;
  }
}

const narrowed = (search: Search) => search.fails - search.ok <= 1;

/** The position after the next character at or after `after` that can end a quoted string, dollar quote or comment. */
function nextCloser(text: string, after: number): number {
  for (let i = after; i < text.length; i++) if (CLOSERS.includes(text[i]!)) return i + 1;
  return text.length;
}
