// How the current tenant is known inside the database, as SQL expressions evaluated once per statement (an
// uncorrelated scalar subquery is an init plan).
import type { TenantContext } from '../migration-spec/schema';
import { quoteLiteral } from '../db/sql';

/**
 * The context as the request sent it, as text; NULL when it sent none. A setting of '' is none: it is what a custom
 * setting reads after a `SET LOCAL` of an earlier transaction on the same connection ended. A claim of "" was sent.
 */
function sentText(context: TenantContext): string {
  if (context.kind === 'supabase-jwt') {
    return `(nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> ${quoteLiteral(context.claim)})`;
  }
  return `nullif(current_setting(${quoteLiteral(context.name)}, true), '')`;
}

const INTEGER_RANGES: Record<string, readonly [string, string]> = {
  smallint: ['-32768', '32767'],
  integer: ['-2147483648', '2147483647'],
  bigint: ['-9223372036854775808', '9223372036854775807'],
};
const TEXT_TYPES = /^(text|character varying|character|citext|name)(\(\d+\))?$/;
/** Every form PostgreSQL's uuid input accepts (hyphens after any group of four digits, braces around), and no other. */
const UUID_FORM = String.raw`^(\{[0-9a-f]{4}(-?[0-9a-f]{4}){7}\}|[0-9a-f]{4}(-?[0-9a-f]{4}){7})$`;

/**
 * `v` (text) as the org type, NULL where it is not a value of that type: a CASE never evaluates a branch whose
 * condition failed, so the cast cannot raise. PostgreSQL 15 has no pg_input_is_valid. Types without a known form
 * are cast as they are (a malformed value then raises, as the type's input function decides).
 */
function validCast(v: string, orgType: string): string {
  const type = orgType.toLowerCase();
  if (type === 'uuid') return `CASE WHEN ${v} ~* ${quoteLiteral(UUID_FORM)} THEN ${v}::uuid END`;
  const range = INTEGER_RANGES[type];
  if (range) {
    return `CASE WHEN ${v} ~ '^\\s*[+-]?[0-9]{1,30}\\s*$' THEN CASE WHEN ${v}::numeric BETWEEN ${range[0]} AND ${range[1]} THEN ${v}::${orgType} END END`;
  }
  if (TEXT_TYPES.test(type)) return `CASE WHEN ${v} <> '' THEN ${v}::${orgType} END`;
  return `${v}::${orgType}`;
}

/** True when the request sent a tenant context, well-formed or not. */
export function contextSentExpression(context: TenantContext): string {
  return `((SELECT ${sentText(context)}) IS NOT NULL)`;
}

/** The request's org; NULL when it sent none, and when what it sent is not a value of the org type. */
export function currentOrgExpression(context: TenantContext, orgType: string): string {
  return `(SELECT ${validCast('sent.org', orgType)} FROM (SELECT ${sentText(context)} AS org) AS sent)`;
}
