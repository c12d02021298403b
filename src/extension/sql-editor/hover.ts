// Hovering a statement that has run: how it ran, the check's verdict, the first rows as a table, and a link to the
// full result. \d answers show as the catalog's text.
import * as vscode from 'vscode';
import type { EngineLoader } from '../engine';
import type { SqlModels } from './models';
import type { ResultStore } from './results';
import { statementAt } from './statement-at';

const HOVER_ROWS = 6;
const KIND_LABEL = {
  read: 'read-only, rolled back',
  write: 'written and committed',
  tenant: 'as a tenant, rolled back',
  explain: 'EXPLAIN',
  describe: 'psql \\d, from the catalog',
} as const;

export class SqlHover implements vscode.HoverProvider {
  constructor(
    private readonly models: SqlModels,
    private readonly results: ResultStore,
    private readonly engines: EngineLoader,
  ) {}

  provideHover(document: vscode.TextDocument, position: vscode.Position): vscode.Hover | undefined {
    const model = this.models.model(document);
    const found = model && statementAt(document, model.statements, position, { strict: true });
    if (!found) return undefined;
    const outcome = this.results.get(document.uri, found.statement.item.text);
    if (!outcome || outcome.state === 'running') return undefined;
    const engine = this.engines.peek();
    const md = new vscode.MarkdownString(undefined, true);
    md.isTrusted = { enabledCommands: ['tenantMigration.showStatementResult'] };
    const when = outcome.at.toLocaleTimeString();
    if (outcome.state === 'failed') {
      md.appendMarkdown(
        `$(error) **${outcome.cancelled ? 'Not run' : 'Failed'}** (${KIND_LABEL[outcome.kind]}, ${when})\n\n`,
      );
      if (outcome.check) md.appendMarkdown(`Check: expected \`${outcome.check.expected}\`\n\n`);
      md.appendCodeblock(outcome.message, 'text');
      return new vscode.Hover(md);
    }
    const result = outcome.result;
    const stats = result
      ? ` · ${result.durationMs} ms · ${result.fields.length ? `${result.rows.length}${result.truncated ? '+' : ''} row${result.rows.length === 1 ? '' : 's'}` : result.command}`
      : '';
    const args = encodeURIComponent(JSON.stringify([document.uri.toString(), found.statement.item.start]));
    // The link first: a hover with a table can be taller than the room above the line, and then it scrolls.
    md.appendMarkdown(
      `**Result** (${KIND_LABEL[outcome.kind]}${outcome.org ? ` as org \`${outcome.org}\`` : ''}, ${when}${stats}) · [$(table) Show all](command:tenantMigration.showStatementResult?${args} "Show the full result beside the SQL")\n\n`,
    );
    if (outcome.check) {
      md.appendMarkdown(
        outcome.check.ok
          ? `$(pass) Check passed: expected \`${outcome.check.expected}\`, got \`${outcome.check.actual}\`\n\n`
          : `$(error) Check failed: expected \`${outcome.check.expected}\`, got \`${outcome.check.actual}\`\n\n`,
      );
    }
    if (outcome.text) md.appendCodeblock(outcome.text, 'text');
    else if (result && engine && result.fields.length) {
      md.appendMarkdown(`${engine.formatMarkdownTable(result, HOVER_ROWS)}\n\n`);
      if (result.rows.length > HOVER_ROWS)
        md.appendMarkdown(`The first ${HOVER_ROWS} of ${result.rows.length}${result.truncated ? '+' : ''} rows.`);
    }
    return new vscode.Hover(md, found.range);
  }
}
