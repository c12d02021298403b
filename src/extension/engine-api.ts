// The entry point of dist/engine.js: everything heavy the extension uses (the engine with pg, zod and libpg-query,
// and the plan preview host). Bundled apart from dist/extension.js and required on first use, so activation stays light.
export { Migration, sha256, asMigrationError, type RunResult, type StepResult } from '../engine/migration';
export { MigrationError } from '../engine/errors';
export { loadSpec, type LoadedSpec } from '../engine/migration-spec/load';
export { Session } from '../engine/db/session';
export { parseConnectionUrl, describeTarget, type ConnectionTarget } from '../engine/db/connection-options';
export { redact, registerSecret } from '../engine/redact';
export { GUIDE_SPEC, GUIDE_CHECKS } from '../engine/migration-spec/template';
export type { Plan } from '../engine/plan';
export type { StatusInfo, StepState } from '../engine/status';
// The plan preview's host validates every webview message with zod: it travels with the engine, not in activation.
export { PlanPreviewPanel } from './plan-preview/panel';
// The SQL editor: loaded with the engine; the parser's WASM only once a matching SQL file is open.
export { loadParser } from '../engine/script/parse';
export { SqlFileModel, isCheck, isDescribe } from '../engine/sql-editor/file-model';
export { readLintCatalog, type LintCatalog } from '../engine/sql-editor/lint/catalog';
export { lintOptionsFromSpec, mergeLintOptions } from '../engine/sql-editor/lint/spec-options';
export { evaluate, summarize } from '../engine/sql-editor/expectations';
export { runStatement } from '../engine/sql-editor/run-statement';
export { describeRelation } from '../engine/sql-editor/describe';
export { listOrgs, tenantRoleFor } from '../engine/sql-editor/tenant';
export { formatAligned, formatMarkdownTable } from '../engine/sql-editor/format-table';
