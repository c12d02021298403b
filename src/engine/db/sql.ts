// Quoting for SQL text that cannot take bind parameters (generated scripts, DDL). Engine queries bind values instead.
import crypto from 'node:crypto';

export interface QualifiedName {
  /** Undefined: resolved through the search_path. */
  readonly schema?: string;
  readonly name: string;
}

export function quoteIdent(name: string): string {
  if (name.includes('\0')) throw new Error('identifier contains a NUL character');
  return `"${name.replace(/"/g, '""')}"`;
}

export function quoteLiteral(value: string): string {
  if (value.includes('\0')) throw new Error('literal contains a NUL character');
  return `'${value.replace(/'/g, "''")}'`;
}

export function quoteQualified(name: QualifiedName): string {
  return name.schema === undefined ? quoteIdent(name.name) : `${quoteIdent(name.schema)}.${quoteIdent(name.name)}`;
}

/**
 * Spec names are exact (case is kept, nothing is folded). A dot separates schema and table; a part written in
 * double quotes may contain dots and doubled quotes: `"my.schema"."Table ""A"""`.
 */
export function parseQualifiedName(text: string): QualifiedName {
  const parts: string[] = [];
  let i = 0;
  while (i <= text.length) {
    if (text[i] === '"') {
      let part = '';
      i++;
      for (;;) {
        if (i >= text.length) throw new Error(`unterminated double quote in "${text}"`);
        if (text[i] === '"') {
          if (text[i + 1] === '"') {
            part += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        part += text[i++];
      }
      parts.push(part);
    } else {
      const end = text.indexOf('.', i);
      parts.push(text.slice(i, end === -1 ? text.length : end));
      i = end === -1 ? text.length : end;
    }
    if (i >= text.length) break;
    if (text[i] !== '.') throw new Error(`expected a dot after a quoted name in "${text}"`);
    i++;
    if (i === text.length) parts.push('');
  }
  if (parts.some((p) => p.length === 0)) throw new Error(`"${text}" has an empty name part`);
  if (parts.length > 2) throw new Error(`"${text}" has more than two parts: write schema.table`);
  return parts.length === 2 ? { schema: parts[0]!, name: parts[1]! } : { name: parts[0]! };
}

export function displayName(name: QualifiedName): string {
  const show = (part: string) => (/^[a-z_][a-z0-9_$]*$/.test(part) ? part : quoteIdent(part));
  return name.schema === undefined ? show(name.name) : `${show(name.schema)}.${show(name.name)}`;
}

/** Dollar-quotes a body with a tag that does not occur in it. */
export function dollarQuote(body: string, tag = 'tm'): string {
  let candidate = tag;
  for (let n = 1; body.includes(`$${candidate}$`); n++) candidate = `${tag}${n}`;
  return `$${candidate}$${body}$${candidate}$`;
}

const IDENTIFIER_BYTES = 63;

/** The longest start of text (whole characters, never half of one) that fits in the given bytes. */
export function truncateBytes(text: string, bytes: number): string {
  let out = '';
  for (const ch of text) {
    if (Buffer.byteLength(out + ch) > bytes) break;
    out += ch;
  }
  return out;
}

/** A tag for text that is cut: 48 bits of its SHA-256 (two cut names collide by a 1 in 2^48 chance). */
export function hashTag(text: string): string {
  return `_${crypto.createHash('sha256').update(text).digest('hex').slice(0, 12)}`;
}

/**
 * Deterministic identifier derived from a name, for objects the migration creates: the name itself when it fits in
 * 63 bytes, else cut (whole characters, within the bytes) and tagged with a hash of the whole, whatever the input.
 */
export function derivedName(prefix: string, name: QualifiedName, suffix = ''): string {
  const base = `${prefix}${name.name}${suffix}`;
  if (Buffer.byteLength(base) <= IDENTIFIER_BYTES) return base;
  const tag = hashTag(`${prefix}\0${name.schema ?? ''}\0${name.name}\0${suffix}`);
  // The suffix is kept whole when it leaves room for a recognisable start of the name.
  const keep = Buffer.byteLength(prefix + tag + suffix) + 8 <= IDENTIFIER_BYTES ? suffix : '';
  return (
    truncateBytes(keep ? `${prefix}${name.name}` : base, IDENTIFIER_BYTES - Buffer.byteLength(tag + keep)) + tag + keep
  );
}
