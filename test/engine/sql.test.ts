import assert from 'node:assert/strict';
import { derivedName, dollarQuote, parseQualifiedName, quoteIdent, quoteLiteral } from '../../src/engine/db/sql';
import { redact, registerSecret } from '../../src/engine/redact';

describe('SQL quoting', () => {
  it('quotes identifiers and literals', () => {
    assert.equal(quoteIdent('a"b'), '"a""b"');
    assert.equal(quoteLiteral("it's"), "'it''s'");
    assert.throws(() => quoteIdent('a\0b'));
  });

  it('splits qualified names on unquoted dots only', () => {
    assert.deepEqual(parseQualifiedName('public.credentials'), { schema: 'public', name: 'credentials' });
    assert.deepEqual(parseQualifiedName('"my.schema"."My Table"'), { schema: 'my.schema', name: 'My Table' });
    assert.deepEqual(parseQualifiedName('Credentials'), { name: 'Credentials' });
    assert.throws(() => parseQualifiedName('a.b.c'), /more than two parts/);
    assert.throws(() => parseQualifiedName('a.'), /empty name part/);
    assert.throws(() => parseQualifiedName('"unterminated'), /unterminated/);
  });

  it('dollar-quotes with a tag absent from the body', () => {
    assert.equal(dollarQuote('x $tm$ y'), '$tm1$x $tm$ y$tm1$');
  });

  it('keeps derived names within 63 bytes and distinct', () => {
    const long = 'x'.repeat(80);
    const a = derivedName('backup_', { name: long });
    const b = derivedName('backup_', { name: long + 'y' });
    assert.ok(Buffer.byteLength(a) <= 63);
    assert.notEqual(a, b);
  });

  it('redacts URL passwords and registered secrets', () => {
    registerSecret('s3cr3t-pässword');
    assert.equal(redact('postgresql://bob:hunter2@db:5432/x'), 'postgresql://bob:****@db:5432/x');
    assert.equal(redact(`failed for s3cr3t-pässword and ${encodeURIComponent('s3cr3t-pässword')}`), 'failed for **** and ****');
  });
});
