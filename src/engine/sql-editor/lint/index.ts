// The migration lint: MigrationLinter and its rules (one file per family under rules/).
export { MigrationLinter, ruleEnabled, type SyntaxProblem } from './linter';
export { RULES, type Rule } from './rules';
export type {
  LintDiagnostic,
  LintFix,
  LintOptions,
  ParsePlPgSqlSync,
  ParseSync,
  RuleMeta,
  Severity,
  TableFacts,
} from './types';
export { lintOptionsFromSpec, mergeLintOptions } from './spec-options';
