// Tenant roles that are members of a role reading every org (see role-membership.ts): listed before the migration,
// and enforce refuses while one holds.
import { membershipBypasses } from '../role-membership';
import type { ShapeDetector } from './finding';

export const roleMemberships: ShapeDetector = async (session, model) =>
  (await membershipBypasses(session, model)).map((b) => ({
    kind: 'role-membership',
    table: model.tables.map((t) => t.name.name).join(', '),
    object: `role ${b.tenant}`,
    blocking: false,
    message: `Role membership around row-level security: ${b.message}`,
    fix: `${b.fix} ("enforce" refuses while it holds)`,
  }));
