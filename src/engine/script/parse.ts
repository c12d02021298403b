// Splits SQL into statements with their source locations using PostgreSQL's own scanner (libpg-query, WASM);
// psql meta-commands (\set, \d+ …) at the start of a statement are recognised and kept apart.
import type { ScanToken } from 'libpg-query';

export interface SqlStatement {
  readonly kind: 'sql';
  readonly text: string;
  /** Character offsets into the source. */
  readonly start: number;
  readonly end: number;
  readonly line: number;
}

export interface MetaCommand {
  readonly kind: 'meta';
  readonly command: string;
  readonly args: string[];
  readonly text: string;
  readonly start: number;
  readonly end: number;
  readonly line: number;
}

export type ScriptItem = SqlStatement | MetaCommand;

type Parser = typeof import('libpg-query');
let parser: Promise<Parser> | undefined;

/** Loads the WASM parser once, on first use. */
export function loadParser(): Promise<Parser> {
  parser ??= (async () => {
    const module = await import('libpg-query');
    await module.loadModule();
    return module;
  })();
  return parser;
}

/** libpg-query reports UTF-8 byte offsets; editors and slices need character offsets. */
function byteToCharIndex(text: string): (byteOffset: number) => number {
  const byteLength = Buffer.byteLength(text);
  if (byteLength === text.length) return (b) => b;
  // The UTF-8 length of each UTF-16 unit from its code: a surrogate pair is 4 bytes for its 2 units.
  const map = new Int32Array(byteLength + 1);
  let byte = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    const pair = code >= 0xd800 && code <= 0xdbff && i + 1 < text.length;
    const bytes = code < 0x80 ? 1 : code < 0x800 ? 2 : pair ? 4 : 3;
    map.fill(i, byte, byte + bytes);
    byte += bytes;
    if (pair) i++;
  }
  map[byteLength] = text.length;
  return (b) => map[Math.min(b, byteLength)]!;
}

function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

function trimmedRange(text: string, start: number, end: number): [number, number] {
  while (start < end && /\s/.test(text[start]!)) start++;
  while (end > start && /\s/.test(text[end - 1]!)) end--;
  return [start, end];
}

export class ScanError extends Error {
  constructor(
    message: string,
    readonly offset: number,
    readonly line: number,
  ) {
    super(message);
  }
}

/** Splits without parsing: one syntax error leaves the other statements usable. Comments between statements are dropped. */
export async function splitScript(text: string): Promise<ScriptItem[]> {
  const { scanSync } = await loadParser();
  return splitWith(scanSync, text);
}

export function splitWith(scan: (text: string) => { tokens: ScanToken[] }, text: string): ScriptItem[] {
  const items: ScriptItem[] = [];
  const toChar = byteToCharIndex(text);
  let tokens: ScanToken[];
  try {
    tokens = scan(text).tokens;
  } catch (e) {
    const around = splitAroundQuotedMetaCommand(scan, text);
    if (around) return around;
    throw new ScanError(`The SQL cannot be scanned: ${(e as Error).message}`, 0, 1);
  }
  let statementStart: number | undefined;
  let lastEnd = 0;
  // Line numbers counted forward as the statements come (once over the text, not once per statement).
  let lineCursor = 0;
  let lineNumber = 1;
  const lineOf = (offset: number) => {
    if (offset < lineCursor) return lineAt(text, offset);
    for (; lineCursor < offset; lineCursor++) if (text.charCodeAt(lineCursor) === 10) lineNumber++;
    return lineNumber;
  };
  const flush = (endChar: number) => {
    if (statementStart === undefined) return;
    const [start, end] = trimmedRange(text, statementStart, endChar);
    if (end > start) items.push({ kind: 'sql', text: text.slice(start, end), start, end, line: lineOf(start) });
    statementStart = undefined;
  };
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (token.tokenName === 'SQL_COMMENT' || token.tokenName === 'C_COMMENT') continue;
    const start = toChar(token.start);
    const end = toChar(token.end);
    if (statementStart === undefined && token.text === '\\') {
      const lineEnd = text.indexOf('\n', start);
      const stop = lineEnd === -1 ? text.length : lineEnd;
      const raw = text.slice(start, stop).trim();
      const [command = '', ...args] = raw.slice(1).split(/\s+/);
      items.push({ kind: 'meta', command, args, text: raw, start, end: start + raw.length, line: lineOf(start) });
      while (i + 1 < tokens.length && toChar(tokens[i + 1]!.start) < stop) i++;
      const rest = toChar(tokens[i]!.end) > stop ? splitRestAfterMeta(scan, text, stop, lineOf(stop)) : undefined;
      if (rest) return [...items, ...rest];
      lastEnd = stop;
      continue;
    }
    if (token.text === ';') {
      flush(start);
      lastEnd = end;
      continue;
    }
    if (statementStart === undefined) statementStart = start;
    lastEnd = end;
  }
  flush(Math.max(lastEnd, text.length));
  return items;
}

/** Lines that start with a backslash and hold a quote, a dollar sign or a comment opener: psql meta-commands, maybe. */
const QUOTED_META_LINE = /^[ \t]*\\[^\n]*?(['"$]|\/\*)[^\n]*$/gm;

/**
 * The text does not scan. psql ends a meta-command at its line end, so a quote on such a line (`\echo it's`) opens
 * nothing; the scanner does not know that. If the text before such a line splits into whole statements, the line is
 * a meta-command and the rest is split on its own.
 */
function splitAroundQuotedMetaCommand(
  scan: (text: string) => { tokens: ScanToken[] },
  text: string,
): ScriptItem[] | undefined {
  for (const match of text.matchAll(QUOTED_META_LINE)) {
    const lineStart = match.index;
    let before: ScriptItem[];
    try {
      before = splitWith(scan, text.slice(0, lineStart));
    } catch {
      continue; // the line is inside a string that opened before it, or the problem is earlier
    }
    const last = before.at(-1);
    const after = text.slice(last?.end ?? 0, lineStart);
    if (last && (last.kind === 'meta' ? !after.includes('\n') : !/^\s*;/.test(after))) continue; // the line is inside a statement
    const stop = lineStart + match[0].length;
    const line = (text.slice(0, lineStart).match(/\n/g)?.length ?? 0) + 1;
    const raw = match[0].trim();
    const [command = '', ...args] = raw.slice(1).split(/\s+/);
    const start = text.indexOf('\\', lineStart);
    const meta: MetaCommand = { kind: 'meta', command, args, text: raw, start, end: start + raw.length, line };
    const rest = splitWith(scan, text.slice(stop)).map((it) => ({
      ...it,
      start: it.start + stop,
      end: it.end + stop,
      line: it.line + line - 1,
    }));
    return [...before, meta, ...rest];
  }
  return undefined;
}

/**
 * A quote or comment opened on a meta-command's line ran past it: psql ends the command at the line end, so the text
 * after it is split on its own — unless that does not scan either (a quote on a later meta-command line), in which
 * case the tokens as scanned stand.
 */
function splitRestAfterMeta(
  scan: (text: string) => { tokens: ScanToken[] },
  text: string,
  stop: number,
  line: number,
): ScriptItem[] | undefined {
  try {
    return splitWith(scan, text.slice(stop)).map((it) => ({
      ...it,
      start: it.start + stop,
      end: it.end + stop,
      line: it.line + line - 1,
    }));
  } catch (error) {
    if (error instanceof ScanError) return undefined;
    throw error;
  }
}

/** The first keyword(s) of a statement, upper-cased: "BEGIN", "CREATE INDEX", "VACUUM" … */
export function leadingKeywords(statement: string, count = 2): string {
  const words = statement
    .replace(/--[^\n]*\n/g, ' ')
    .replace(/\/\*[\s\S]*?\*\//g, ' ')
    .trim()
    .split(/[\s(;]+/);
  return words.slice(0, count).join(' ').toUpperCase();
}
