// A statement's rows as a person reads them: aligned text (as psql prints them) and a Markdown table for a hover.
import type { QueryOutcome } from './expectations';

export function cellText(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (value instanceof Date) return value.toISOString();
  if (Buffer.isBuffer(value)) return `\\x${value.toString('hex')}`;
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

const clip = (text: string, width: number) => (text.length > width ? `${text.slice(0, width - 1)}…` : text);

/** psql's aligned format: a header, a rule, the rows, and "(N rows)". */
export function formatAligned(outcome: QueryOutcome, maxWidth = 80): string {
  const { fields, rows } = outcome;
  if (fields.length === 0) return '';
  const cells = rows.map((r) => fields.map((f) => clip(cellText(r[f]).replace(/\s*\n\s*/g, ' '), maxWidth)));
  const widths = fields.map((f, i) => Math.max(f.length, ...cells.map((c) => c[i]!.length)));
  const line = (values: readonly string[]) => ` ${values.map((v, i) => v.padEnd(widths[i]!)).join(' | ')}`.trimEnd();
  return [
    line(fields),
    widths.map((w) => '-'.repeat(w + 2)).join('+'),
    ...cells.map(line),
    `(${rows.length} row${rows.length === 1 ? '' : 's'})`,
  ].join('\n');
}

const escapeMarkdown = (text: string) => text.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, (c) => `\\${c}`);

/** The first rows as a Markdown table (a hover shows it). */
export function formatMarkdownTable(outcome: QueryOutcome, maxRows = 10, maxWidth = 40): string {
  const { fields, rows } = outcome;
  if (fields.length === 0) return '';
  const head = `| ${fields.map(escapeMarkdown).join(' | ')} |`;
  const rule = `|${fields.map(() => ' --- ').join('|')}|`;
  const body = rows
    .slice(0, maxRows)
    .map(
      (r) =>
        `| ${fields.map((f) => escapeMarkdown(clip(cellText(r[f]).replace(/\s*\n\s*/g, ' '), maxWidth))).join(' | ')} |`,
    );
  return [head, rule, ...body].join('\n');
}
