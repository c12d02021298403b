// Statements PostgreSQL refuses inside a transaction block ("cannot run inside a transaction block"): the editor's
// Run (write) runs them on their own, as psql's autocommit does, instead of in BEGIN … COMMIT.
type Node = Record<string, unknown>;

const ALWAYS_ALONE = new Set([
  'CreatedbStmt',
  'DropdbStmt',
  'AlterSystemStmt',
  'CreateTableSpaceStmt',
  'DropTableSpaceStmt',
]);

/** From the statement's parse tree (libpg-query's `stmts[0].stmt`). */
export function runsOutsideTransaction(tree: Node | null | undefined): boolean {
  const [type, value] = Object.entries(tree ?? {})[0] ?? [];
  if (!type) return false;
  const node = (value ?? {}) as Node;
  switch (type) {
    case 'IndexStmt':
    case 'DropStmt':
      return node.concurrent === true;
    case 'ReindexStmt':
      return ((node.params as { DefElem?: { defname?: string } }[] | undefined) ?? []).some(
        (p) => p.DefElem?.defname === 'concurrently',
      );
    case 'VacuumStmt':
      return node.is_vacuumcmd === true; // VACUUM; ANALYZE alone runs in a transaction
    default:
      return ALWAYS_ALONE.has(type);
  }
}
