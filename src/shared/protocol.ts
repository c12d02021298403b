// The one contract between the extension host and the plan-preview webview: zod schemas and the types they infer.
// No 'vscode' and no DOM here. The webview imports this file for its types only (`import type`), so zod stays out of
// its bundle; the host validates every message that comes from the webview with parseWebviewMessage.
import { z } from 'zod';

export const LOCK_MODES = [
  'ACCESS SHARE',
  'ROW EXCLUSIVE',
  'SHARE UPDATE EXCLUSIVE',
  'SHARE',
  'SHARE ROW EXCLUSIVE',
  'ACCESS EXCLUSIVE',
] as const;
export const FINDING_KINDS = [
  'unmapped',
  'missing-org',
  'stale-mapping',
  'conflict',
  'duplicate-mapping',
  'orphan-child',
  'null-key',
  'schema-shape',
] as const;

// ---------------------------------------------------------------------------------------------------------------
// The plan as the webview sees it: a serialisable view model derived from the engine's Plan (see plan-view.ts).

export const LockViewSchema = z.strictObject({
  table: z.string(),
  mode: z.enum(LOCK_MODES),
  /** Blocks the application's writes while held. */
  blocksWrites: z.boolean(),
  note: z.string().optional(),
});

export const StatementViewSchema = z.strictObject({
  /** Position in the script, from 0. */
  index: z.number().int().nonnegative(),
  /** 1-based line of the statement in the script. */
  line: z.number().int().positive(),
  sql: z.string(),
  /** `psql` for meta-commands (`\set …`), which psql runs itself and are never sent to the server. */
  kind: z.enum(['sql', 'psql']),
  locks: z.array(LockViewSchema),
});

export const PhaseViewSchema = z.strictObject({
  /** Unique within the plan (a phase may in principle appear twice): `<first statement index>-<phase>`. */
  id: z.string(),
  /** The script's phase marker (`backup`, `backfill`, …); `null` for the statements before the first marker. */
  phase: z.string().nullable(),
  title: z.string(),
  statements: z.array(StatementViewSchema),
  /** Statements in this phase that take a lock blocking writes. */
  blockingStatements: z.number().int().nonnegative(),
  /** Tables this phase locks, in order of first appearance. */
  tables: z.array(z.string()),
});

export const GapSampleViewSchema = z.strictObject({
  /** The row's key; `null` when the row has no key at all. */
  key: z.string().nullable(),
  detail: z.string().optional(),
});

export const FindingViewSchema = z.strictObject({
  kind: z.enum(FINDING_KINDS),
  title: z.string(),
  severity: z.enum(['error', 'warning', 'info']),
  count: z.number().int().nonnegative(),
  samples: z.array(GapSampleViewSchema),
  /** The run refuses until a blocking finding is resolved. */
  blocking: z.boolean(),
  message: z.string(),
  /** What the operator can do about it. */
  advice: z.string(),
});

export const AssignmentViewSchema = z.strictObject({
  rule: z.string(),
  rows: z.number().int().nonnegative(),
  assigned: z.number().int().nonnegative(),
  toDefault: z.number().int().nonnegative(),
  /** Estimated from a sample of a large table (the preview); what blocks a run is always counted exactly. */
  estimated: z.boolean(),
});

export const TableGapsViewSchema = z.strictObject({
  table: z.string(),
  /** How the rule decides a row's org (from the engine's rule text); `unknown` when the report has no rule for it. */
  ruleKind: z.enum(['mapping', 'parent', 'query', 'unknown']),
  /** How the table's rows get their org; `null` only for a finding about a table the report has no counts for. */
  assignment: AssignmentViewSchema.nullable(),
  findings: z.array(FindingViewSchema),
});

export const TableViewSchema = z.strictObject({
  table: z.string(),
  estimatedRows: z.number().nonnegative(),
  totalBytes: z.number().nonnegative(),
});

export const PlanViewSchema = z.strictObject({
  scriptPath: z.string(),
  scriptExists: z.boolean(),
  phases: z.array(PhaseViewSchema),
  tables: z.array(TableViewSchema),
  gaps: z.strictObject({
    tables: z.array(TableGapsViewSchema),
    blocking: z.boolean(),
    /** A first answer (estimates): the exact blocking checks still running; the exact plan follows. */
    pending: z.array(z.string()).optional(),
  }),
});

// ---------------------------------------------------------------------------------------------------------------
// Host → webview.

export const HostMessageSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('plan'), plan: PlanViewSchema }),
  z.strictObject({ type: z.literal('busy'), message: z.string() }),
  z.strictObject({ type: z.literal('error'), message: z.string(), next: z.string().optional() }),
]);

// ---------------------------------------------------------------------------------------------------------------
// Webview → host: a fixed set of typed actions, never a command id.

/** Scripts longer than this are not a migration script; it also keeps a forged line number from being absurd. */
export const MAX_SCRIPT_LINE = 10_000_000;

export const WebviewMessageSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('ready') }),
  z.strictObject({ type: z.literal('writeMappingStub') }),
  z.strictObject({ type: z.literal('run') }),
  z.strictObject({ type: z.literal('generateScript') }),
  z.strictObject({ type: z.literal('refresh') }),
  z.strictObject({ type: z.literal('openScriptAt'), line: z.number().int().min(1).max(MAX_SCRIPT_LINE) }),
]);

export type LockView = z.infer<typeof LockViewSchema>;
export type StatementView = z.infer<typeof StatementViewSchema>;
export type PhaseView = z.infer<typeof PhaseViewSchema>;
export type GapSampleView = z.infer<typeof GapSampleViewSchema>;
export type FindingView = z.infer<typeof FindingViewSchema>;
export type AssignmentView = z.infer<typeof AssignmentViewSchema>;
export type TableGapsView = z.infer<typeof TableGapsViewSchema>;
export type TableView = z.infer<typeof TableViewSchema>;
export type PlanView = z.infer<typeof PlanViewSchema>;
export type HostMessage = z.infer<typeof HostMessageSchema>;
export type WebviewMessage = z.infer<typeof WebviewMessageSchema>;
/** Every message that crosses between the extension and the plan preview, in either direction. */
export type ProtocolMessage = HostMessage | WebviewMessage;

export type ParseResult<T> =
  { readonly ok: true; readonly message: T } | { readonly ok: false; readonly error: string };

function describeFailure(data: unknown, error: z.ZodError): string {
  const type =
    typeof data === 'object' && data !== null && 'type' in data ? (data as { type: unknown }).type : undefined;
  const what =
    typeof type === 'string'
      ? `message of type "${type.slice(0, 40)}"`
      : `message (${data === null ? 'null' : typeof data})`;
  const issues = error.issues
    .slice(0, 3)
    .map((i) => `${i.path.length ? i.path.join('.') : '(message)'}: ${i.message}`)
    .join('; ');
  return `rejected ${what}: ${issues}`;
}

/** Validates a message from the webview. Anything not exactly one of the known actions is rejected with a reason. */
export function parseWebviewMessage(data: unknown): ParseResult<WebviewMessage> {
  const result = WebviewMessageSchema.safeParse(data);
  return result.success
    ? { ok: true, message: result.data }
    : { ok: false, error: describeFailure(data, result.error) };
}

/** Validates a message for the webview (used by tests and by the host before posting in development). */
export function parseHostMessage(data: unknown): ParseResult<HostMessage> {
  const result = HostMessageSchema.safeParse(data);
  return result.success
    ? { ok: true, message: result.data }
    : { ok: false, error: describeFailure(data, result.error) };
}

export { toPlanView, type PlanSource } from './plan-view';
