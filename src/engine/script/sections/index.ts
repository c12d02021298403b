// The sections of the generated migration script. Each returns statements that are idempotent on their own.
export { stateSchema, preflight, snapshot, backup } from './state';
export { addColumns, pairSource, assignments, addNewAssignments, assignTriggers, orgByRule } from './assignments';
export { heapBackfill, heapRebuild, BACKFILL_GROUPS } from './backfill';
export { tableConstraints, tableIndexes } from './constraints';
export { ledger } from './ledger';
export { rowLevelSecurity, vacuum } from './rls';
export { partitionState, partitionPreflight, partitionSnapshot, revokePartitionPrivileges } from './partitions';
export { authHook } from './auth-hook';
export { choiceState, choicePreflight, choiceSnapshot, viewSecurity, perOrgUniques } from './choices';
