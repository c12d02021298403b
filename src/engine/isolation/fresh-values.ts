// A fresh value for a probe row's NOT NULL column without a default, made from its type (a domain's: its base type).
// A domain with a CHECK gets a few candidates, each tried inside a savepoint of the caller's transaction (the probe's,
// or the plan's read-only one); the first the CHECK accepts is used. None accepted: undefined (the table is unproven).
import type { Session } from '../db/session';
import { quoteLiteral as ql } from '../db/sql';

export interface FreshColumn {
  readonly name: string;
  /** The column's type as written (a domain's name for a domain). */
  readonly type: string;
  /** The type the value is made for: the domain's base type, with its typmod. */
  readonly baseType: string;
  readonly domainCheck: boolean;
  readonly typtype: string;
  readonly category: string;
  readonly firstLabel: string | null;
}

const UNIQUE_TEXT = `('tm-probe-' || gen_random_uuid())`;

/** The candidates for a base type, most likely first (a CHECK on text is often an email, a URL, a code or a slug). */
function candidates(c: FreshColumn): string[] {
  const type = c.baseType;
  if (c.typtype === 'e' && c.firstLabel !== null) return [ql(c.firstLabel)];
  if (c.category === 'A') return [`'{}'`];
  const length = /^(?:character varying|character|bpchar)\((\d+)\)$/.exec(type)?.[1];
  if (length && Number(length) < 45)
    return [
      `right(gen_random_uuid()::text, ${Number(length)})`,
      `right(replace(gen_random_uuid()::text, '-', ''), ${Number(length)})`,
    ];
  if (/^(text|character varying|character|citext|name)\b/.test(type.replace(/^[^.]*\./, ''))) {
    return [
      UNIQUE_TEXT,
      `(${UNIQUE_TEXT} || '@example.com')`,
      `('https://example.com/' || ${UNIQUE_TEXT})`,
      `replace(gen_random_uuid()::text, '-', '')`,
      `upper(replace(gen_random_uuid()::text, '-', ''))`,
    ];
  }
  if (type === 'uuid') return ['gen_random_uuid()'];
  if (type === 'smallint') return ['(10000 + floor(random() * 20000))', '1', '0'];
  const precision = /^numeric\((\d+),(\d+)\)$/.exec(type);
  if (precision)
    return [`floor(random() * ${10 ** Math.min(Number(precision[1]) - Number(precision[2]), 15)})`, '1', '0'];
  if (/^(integer|bigint|numeric|real|double precision)\b/.test(type))
    return ['(1000000000 + floor(random() * 1000000000))', '1', '0', '-1'];
  if (type === 'boolean') return ['false', 'true'];
  if (/^json/.test(type)) return [`'{}'`, `'[]'`];
  if (/^timestamp/.test(type)) return ['now()'];
  if (type === 'date') return ['current_date'];
  if (/^time\b/.test(type)) return [`'12:00'`];
  if (type === 'interval') return [`'1 day'`];
  if (type === 'bytea') return [`'\\x00'`];
  if (type === 'inet' || type === 'cidr') return [`'192.0.2.1'`];
  return [];
}

/** Whether the domain's constraints accept the value: tried in a savepoint, so a refusal leaves the transaction usable. */
async function accepted(session: Session, sql: string): Promise<boolean> {
  await session.query('SAVEPOINT tm_probe_value');
  try {
    await session.query(`SELECT ${sql}`);
    return true;
  } catch {
    return false;
  } finally {
    await session.query('ROLLBACK TO SAVEPOINT tm_probe_value');
  }
}

export async function freshValue(session: Session, c: FreshColumn): Promise<string | undefined> {
  const cast = (sql: string) =>
    c.type === 'uuid' || c.type === 'boolean' || c.type === 'date' ? sql : `${sql}::${c.type}`;
  const all = candidates(c).map(cast);
  if (!c.domainCheck) return all[0];
  for (const sql of all) if (await accepted(session, sql)) return sql;
  return undefined;
}
