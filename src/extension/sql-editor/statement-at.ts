// Which statement a command or a hover means: the one at an offset (a CodeLens passes its statement's start), or
// at the cursor (from the palette: the statement the cursor is in or ends on the line of, else the next one below it).
import * as vscode from 'vscode';
import type { DocumentStatement } from '../../engine/sql-editor/document';

export interface Found {
  readonly statement: DocumentStatement;
  readonly index: number;
  readonly range: vscode.Range;
}

export function statementAt(
  document: vscode.TextDocument,
  statements: readonly DocumentStatement[],
  where: vscode.Position | number,
  options: { strict?: boolean } = {},
): Found | undefined {
  const offset = typeof where === 'number' ? where : document.offsetAt(where);
  // A statement owns the rest of its last line (its semicolon, and where its result is shown).
  const endOf = (s: DocumentStatement) =>
    document.offsetAt(document.lineAt(document.positionAt(s.item.end).line).range.end);
  let index = statements.findIndex((s) => offset >= s.item.start && offset <= endOf(s));
  if (index === -1 && !options.strict) index = statements.findIndex((s) => s.item.start >= offset);
  if (index === -1) return undefined;
  const statement = statements[index]!;
  return {
    statement,
    index,
    range: new vscode.Range(document.positionAt(statement.item.start), document.positionAt(statement.item.end)),
  };
}
