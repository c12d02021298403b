// What an editor shows for one SQL file, computed without the editor: the statements (split by PostgreSQL's scanner,
// incrementally after an edit), their checks, a lens per statement, and the lint with syntax errors. The VS Code
// layer maps this to CodeLens and diagnostics; the benchmark times exactly this.
import type { ScanToken } from 'libpg-query';
import { ScanError, type MetaCommand, type ScriptItem } from '../script/parse';
import { SqlDocument, type DocumentStatement } from './document';
import { commonPrefix } from './edit-split';
import type { Expectation } from './expectations';
import { MigrationLinter, type LintDiagnostic, type LintOptions, type ParsePlPgSqlSync, type ParseSync } from './lint';

export interface SqlParser {
  readonly scanSync: (text: string) => { tokens: ScanToken[] };
  readonly parseSync: ParseSync;
  /** For the lint of DO blocks' bodies. */
  readonly parsePlPgSQLSync?: ParsePlPgSqlSync;
}

export type LensKind = 'run' | 'runAsTenant' | 'explain' | 'runWrite' | 'describe' | 'meta';

export interface StatementLens {
  readonly index: number;
  readonly kind: LensKind;
  /** Where the lens sits: the statement's first character. */
  readonly offset: number;
}

/** Statements parsed per lintStep(): about 10 ms of the parser's time. */
const LINT_BATCH = 400;

/** Queries get Run, Run as tenant… and Explain; data changes also Run (write); DDL and the rest only Run (write). */
const READS = /^\s*(SELECT|WITH|VALUES|TABLE|SHOW|EXPLAIN)\b/i;
const DML = /^\s*(INSERT|UPDATE|DELETE|MERGE)\b/i;

/** psql's \d and \d+ NAME are answered from the catalog; other meta-commands are psql's own and never sent. */
export function isDescribe(item: MetaCommand): boolean {
  return (item.command === 'd' || item.command === 'd+') && item.args.length === 1;
}

export function isCheck(s: DocumentStatement): s is DocumentStatement & { expectation: Expectation } {
  return s.item.kind === 'sql' && !!s.expectation && !('error' in s.expectation);
}

export class SqlFileModel {
  private readonly document: SqlDocument;
  private readonly linter: MigrationLinter;
  private current: readonly DocumentStatement[] = [];
  private text = '';
  /** The first character the last change touched. */
  private editedAt = 0;
  /** Where the scanner stopped before the last change. */
  private stoppedBefore?: number;
  /** Where the scanner gave up (an unterminated quote, dollar quote or comment): nothing after it is split. */
  private unscannable?: number;

  constructor(parser: SqlParser, chunkChars?: number) {
    this.document = new SqlDocument(parser.scanSync, chunkChars);
    this.linter = new MigrationLinter(parser.parseSync, parser.parsePlPgSQLSync);
  }

  get statements(): readonly DocumentStatement[] {
    return this.current;
  }

  /** False while a large file is still being split: call resume() until it is true. */
  get complete(): boolean {
    return this.document.complete || this.unscannable !== undefined;
  }

  /** The whole split at once (only the statements an edit touched are scanned again). */
  update(text: string): readonly DocumentStatement[] {
    this.begin(text);
    while (!this.resume()) {
      /* the next chunk */
    }
    return this.current;
  }

  /** Takes the new text and splits as far as one chunk (the first screens of a file just opened). */
  begin(text: string): void {
    this.editedAt = commonPrefix(this.text, text);
    this.stoppedBefore = this.unscannable;
    this.unscannable = undefined;
    this.text = text;
    this.guarded(() => this.document.start(text));
  }

  /** Splits one more chunk; true when the file is split (or the scanner stopped at an unterminated quote). */
  resume(): boolean {
    if (this.complete) return true;
    this.guarded(() => this.document.step());
    return this.complete;
  }

  private guarded(split: () => void): void {
    try {
      split();
    } catch (error) {
      if (!(error instanceof ScanError)) throw error;
      // Typing an opening quote makes the rest of the file a string until it is closed (psql would read it so too):
      // the statements before it stay, and the diagnostic points at the quote just typed (the earliest, if several),
      // or else at the statement the scanner cannot end.
      const typed = [this.stoppedBefore, this.editedAt].filter(
        (at): at is number => at !== undefined && at >= error.offset && at < this.text.length,
      );
      this.unscannable = typed.length > 0 ? Math.min(...typed) : error.offset;
    }
    this.current = this.document.statements;
  }

  lenses(): StatementLens[] {
    const out: StatementLens[] = [];
    this.current.forEach((s, index) => {
      const offset = s.item.start;
      if (s.item.kind === 'meta') {
        out.push({ index, kind: isDescribe(s.item) ? 'describe' : 'meta', offset });
        return;
      }
      const reads = READS.test(s.item.text);
      if (reads || DML.test(s.item.text))
        out.push(
          { index, kind: 'run', offset },
          { index, kind: 'runAsTenant', offset },
          { index, kind: 'explain', offset },
        );
      if (!reads) out.push({ index, kind: 'runWrite', offset });
    });
    return out;
  }

  /** Parses the next statements for the lint (a few milliseconds of work); true when diagnostics() has all it needs. */
  lintStep(statements = LINT_BATCH): boolean {
    return this.linter.primeSome(
      this.current.map((s) => s.item),
      statements,
    );
  }

  /** The lint, syntax errors (one statement's error leaves the others alone) and malformed expectations. */
  diagnostics(options: LintOptions = {}): LintDiagnostic[] {
    const items: ScriptItem[] = this.current.map((s) => s.item);
    this.linter.prime(items);
    const out = this.linter.lint(items, { ...options, source: this.text });
    if (this.unscannable !== undefined) {
      out.push({
        code: 'syntax',
        severity: 'error',
        start: this.unscannable,
        end: this.unscannable + 1,
        message:
          "PostgreSQL's scanner stops here (an unterminated quoted string, dollar quote or comment?): the statements below it come back once it is closed.",
      });
    }
    for (const s of this.current) {
      if (s.item.kind !== 'sql') continue;
      const problem = this.linter.syntaxErrorOf(s.item.text);
      if (problem) {
        const at = s.item.start + problem.offset;
        out.push({
          code: 'syntax',
          severity: 'error',
          message: problem.message,
          start: at,
          end: Math.min(s.item.end, at + 1),
        });
      }
      if (s.expectation && 'error' in s.expectation) {
        out.push({
          code: 'expectation',
          severity: 'error',
          message: s.expectation.error,
          start: s.item.start,
          end: s.item.end,
        });
      }
    }
    return out;
  }

  checkCount(): number {
    return this.current.filter(isCheck).length;
  }
}

/** Offsets to (line, character), by binary search over the line starts (for tools without an editor's document). */
export class LineIndex {
  private readonly starts: number[] = [0];

  constructor(text: string) {
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) this.starts.push(i + 1);
  }

  position(offset: number): { line: number; character: number } {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo, character: offset - this.starts[lo]! };
  }
}
