// Every rule, in the order the lint runs them.
import { BREAKING_RULES } from './breaking';
import { CONSTRAINT_RULES } from './constraints';
import { IDEMPOTENCY_RULES } from './idempotency';
import { LOCK_RULES } from './locks';
import { RLS_RULES } from './rls';
import type { Rule } from './rule';
import { TRANSACTION_RULES } from './transactions';

export type { Rule, Report } from './rule';

export const RULES: readonly Rule[] = [
  ...TRANSACTION_RULES,
  ...LOCK_RULES,
  ...CONSTRAINT_RULES,
  ...BREAKING_RULES,
  ...IDEMPOTENCY_RULES,
  ...RLS_RULES,
];
