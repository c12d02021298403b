// The whole script split as splitScript() does, one chunk per turn of the event loop: queries sent beside it (the
// preview's samples) are answered while a large script is split.
import { SqlDocument } from '../sql-editor/document';
import { loadParser, type ScriptItem } from './parse';

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

export async function splitScriptInSlices(text: string): Promise<ScriptItem[]> {
  const { scanSync } = await loadParser();
  const document = new SqlDocument(scanSync);
  document.start(text);
  while (!document.step()) await nextTurn();
  return document.statements.map((s) => s.item);
}
