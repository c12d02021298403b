// An editor's view of a SQL file: statements split by PostgreSQL's scanner, re-split incrementally after an edit
// (only the statements the edit touched are scanned again), each with the expectation written above it.
import type { ScanToken } from 'libpg-query';
import { splitWith, type ScriptItem } from '../script/parse';
import { expectationIn, type Expectation } from './expectations';

export type Scan = (text: string) => { tokens: ScanToken[] };

export interface DocumentStatement {
  readonly item: ScriptItem;
  readonly expectation?: Expectation | { error: string };
}

function shift(item: ScriptItem, chars: number, lines: number): ScriptItem {
  return { ...item, start: item.start + chars, end: item.end + chars, line: item.line + lines };
}

const newlines = (text: string) => { let n = 0; for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) n++; return n; };

/** The region ends cleanly when nothing but whitespace follows its last statement's semicolon or meta-command. */
function endsCleanly(region: string, items: ScriptItem[]): boolean {
  const last = items.at(-1);
  // With no statement left in it (a statement deleted), the region may still hold the previous one's semicolon.
  if (!last) return /^\s*;?\s*(--[^\n]*\n\s*)*$/.test(region);
  const after = region.slice(last.end);
  return last.kind === 'meta' ? after.trim() === '' : /^\s*;/.test(after);
}

export class SqlDocument {
  private text = '';
  private items: ScriptItem[] = [];

  constructor(private readonly scan: Scan) {}

  update(text: string): DocumentStatement[] {
    this.items = this.split(text);
    this.text = text;
    return this.items.map((item, i) => {
      const gapStart = i === 0 ? 0 : this.items[i - 1]!.end;
      return { item, expectation: expectationIn(text.slice(gapStart, item.start)) };
    });
  }

  private split(text: string): ScriptItem[] {
    const old = this.text;
    if (this.items.length === 0 || old.length === 0) return splitWith(this.scan, text);
    let prefix = 0;
    const max = Math.min(old.length, text.length);
    while (prefix < max && old.charCodeAt(prefix) === text.charCodeAt(prefix)) prefix++;
    let suffix = 0;
    while (suffix < max - prefix && old.charCodeAt(old.length - 1 - suffix) === text.charCodeAt(text.length - 1 - suffix)) suffix++;
    if (prefix === old.length && prefix === text.length) return this.items;
    const first = Math.max(0, this.items.findIndex((it) => it.end >= prefix) === -1 ? this.items.length : this.items.findIndex((it) => it.end >= prefix));
    const changeEndOld = old.length - suffix;
    let next = this.items.findIndex((it) => it.start > changeEndOld);
    if (next === -1) next = this.items.length;
    const start = first === 0 ? 0 : this.items[first - 1]!.end;
    const delta = text.length - old.length;
    const endOld = next < this.items.length ? this.items[next]!.start : old.length;
    const endNew = endOld + delta;
    if (start > Math.min(prefix, endNew)) return splitWith(this.scan, text);
    const region = text.slice(start, endNew);
    let regionItems: ScriptItem[];
    try {
      regionItems = splitWith(this.scan, region);
    } catch {
      return splitWith(this.scan, text);
    }
    if (next < this.items.length && !endsCleanly(region, regionItems)) return splitWith(this.scan, text);
    const startLine = first === 0 ? 1 : this.items[first - 1]!.line + newlines(old.slice(this.items[first - 1]!.start, start));
    const lineDelta = newlines(region) - newlines(old.slice(start, endOld));
    return [
      ...this.items.slice(0, first),
      ...regionItems.map((it) => shift(it, start, startLine - 1)),
      ...this.items.slice(next).map((it) => shift(it, delta, lineDelta)),
    ];
  }
}
