// What a cell of the isolation matrix must show: the one place that decides it, for the live probe and the export.
import type { Actor, Operation } from './matrix';

/**
 * transition: until the enforce step runs, a request without a tenant context keeps its pre-migration access;
 * enforced: such a request reaches nothing. Requests that carry a context are held to their org in both.
 */
export type Mode = 'transition' | 'enforced';

/** 'either': the table's own (legacy) policies decide what a member may do in the org, or the mode keeps old access. */
export type Expected = 'allow' | 'deny' | 'either';

export interface TableSituation {
  /** The migration's permissive member policy is on the table (it had no permissive policy of its own). */
  readonly memberPolicy: boolean;
  /** Transition mode's policy that keeps the table's pre-migration access (it had no policies of its own). */
  readonly legacyAccess?: boolean;
  /** Whether the actor's role holds the privilege for the operation on the table. */
  readonly granted: boolean;
  /** The actor's role is a superuser or has BYPASSRLS. */
  readonly bypassesRls?: boolean;
}

export interface Expectation {
  readonly expected: Expected;
  /** What denies it when it is denied: a policy, or the missing privilege (then no policy is ever consulted). */
  readonly deniedBy: 'policy' | 'grant';
  readonly why: string;
}

export function expectedOutcome(
  actor: Actor,
  operation: Operation,
  table: TableSituation,
  mode: Mode = 'enforced',
): Expectation {
  const deniedBy = table.granted ? 'policy' : 'grant';
  if (!table.granted) return { expected: 'deny', deniedBy, why: `the role has no ${operation} privilege on the table` };
  switch (actor) {
    case 'cross-tenant role':
      if (table.bypassesRls) return { expected: 'allow', deniedBy, why: 'the role bypasses row-level security' };
      return table.memberPolicy || table.legacyAccess
        ? { expected: 'allow', deniedBy, why: 'the isolation policy lets a cross-tenant role read every org' }
        : {
            expected: 'either',
            deniedBy,
            why: "the isolation policy lets a cross-tenant role through; the table's own policies decide",
          };
    case 'own org':
      return table.memberPolicy || table.legacyAccess
        ? { expected: 'allow', deniedBy, why: 'a member reaches the rows of their own org' }
        : { expected: 'either', deniedBy, why: "the table's own policies decide what a member may do in the org" };
    case 'no tenant context':
    case 'anonymous': {
      const who = actor === 'anonymous' ? 'an anonymous request' : 'a request without a tenant context';
      // The probe rows belong to orgs made for the probe: in transition mode too, such a request keeps its access to
      // the orgs that existed at migration time only.
      return mode === 'enforced' || table.memberPolicy
        ? { expected: 'deny', deniedBy, why: `${who} reaches no tenant's rows` }
        : {
            expected: 'deny',
            deniedBy,
            why: `in transition mode ${who} keeps its pre-migration access to the orgs of migration time only, never a newer org's rows`,
          };
    }
    case 'another org':
      return { expected: 'deny', deniedBy, why: "a tenant never reaches another org's rows" };
  }
}
