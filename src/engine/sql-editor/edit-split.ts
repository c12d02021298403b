// After an edit to a split file: the statements again, splitting only the region the edit touched (the statement
// before it too: the edit may have removed the ";" that ended it), or how many statements before the edit still stand
// when the region cannot be split on its own.
import { splitWith, type ScriptItem } from '../script/parse';

type Scan = Parameters<typeof splitWith>[0];

export function shiftItem(item: ScriptItem, chars: number, lines: number): ScriptItem {
  return { ...item, start: item.start + chars, end: item.end + chars, line: item.line + lines };
}

export const newlines = (text: string, from = 0, to = text.length) => {
  let n = 0;
  for (let i = from; i < to; i++) if (text.charCodeAt(i) === 10) n++;
  return n;
};

export function commonPrefix(a: string, b: string): number {
  const max = Math.min(a.length, b.length);
  let n = 0;
  while (n < max && a.charCodeAt(n) === b.charCodeAt(n)) n++;
  return n;
}

/** The region ends cleanly when nothing but whitespace follows its last statement's semicolon or meta-command. */
function endsCleanly(region: string, items: ScriptItem[]): boolean {
  const last = items.at(-1);
  // With no statement left in it (a statement deleted), the region may still hold the previous one's semicolon.
  if (!last) return /^\s*;?\s*(--[^\n]*\n\s*)*$/.test(region);
  const after = region.slice(last.end);
  if (last.kind === 'meta') return after.includes('\n') && after.trim() === '';
  // A line comment still open at the region's end would swallow the statement after it.
  return /^\s*;/.test(after) && !after.slice(after.lastIndexOf('\n') + 1).includes('--');
}

/** The statements after the edit from old to text, or how many of the statements before it to keep. */
export function splitAroundEdit(
  scan: Scan,
  items: readonly ScriptItem[],
  old: string,
  text: string,
): ScriptItem[] | { keep: number } {
  const prefix = commonPrefix(old, text);
  const max = Math.min(old.length, text.length);
  let suffix = 0;
  while (suffix < max - prefix && old.charCodeAt(old.length - 1 - suffix) === text.charCodeAt(text.length - 1 - suffix))
    suffix++;
  if (prefix === old.length && prefix === text.length) return [...items];
  // The statement before the edit is split again too: the edit may have removed the ";" that ended it.
  let touched = items.findIndex((it) => it.end >= prefix);
  if (touched === -1) touched = items.length;
  const first = Math.max(0, touched - 1);
  const changeEndOld = old.length - suffix;
  let next = items.findIndex((it) => it.start > changeEndOld);
  if (next === -1) next = items.length;
  const start = first === 0 ? 0 : items[first - 1]!.end;
  const delta = text.length - old.length;
  const endOld = next < items.length ? items[next]!.start : old.length;
  const endNew = endOld + delta;
  if (start > Math.min(prefix, endNew)) return { keep: first };
  const region = text.slice(start, endNew);
  let regionItems: ScriptItem[];
  try {
    regionItems = splitWith(scan, region);
  } catch {
    return { keep: first };
  }
  if (next < items.length && !endsCleanly(region, regionItems)) return { keep: first };
  const startLine = first === 0 ? 1 : items[first - 1]!.line + newlines(old, items[first - 1]!.start, start);
  const lineDelta = newlines(region) - newlines(old, start, endOld);
  return [
    ...items.slice(0, first),
    ...regionItems.map((it) => shiftItem(it, start, startLine - 1)),
    ...items.slice(next).map((it) => shiftItem(it, delta, lineDelta)),
  ];
}
