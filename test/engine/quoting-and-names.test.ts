import assert from 'node:assert/strict';
import { derivedName, dollarQuote, parseQualifiedName, quoteIdent, quoteLiteral } from '../../src/engine/db/sql';
import { names, retiredBackupName } from '../../src/engine/names';
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

  it('derived names fit 63 bytes and stay distinct for any input: shared prefixes, multibyte characters, long suffixes', () => {
    const prefix = 'é'.repeat(30);
    const inputs = [`${prefix}a`, `${prefix}b`, `${prefix}ab`, 'x'.repeat(63)];
    const all = new Set<string>();
    for (const name of inputs) {
      for (const [p, suffix] of [
        ['backup_', ''],
        ['', '_org_id_fkey'],
        ['', `_${'c'.repeat(63)}_not_null`],
      ] as const) {
        const derived = derivedName(p, { schema: 'public', name }, suffix);
        assert.ok(Buffer.byteLength(derived) <= 63, derived);
        assert.ok(
          !derived.includes('\uFFFD') && Buffer.from(derived).toString() === derived,
          'a character was cut in half',
        );
        all.add(derived);
      }
    }
    assert.equal(all.size, inputs.length * 3);
    assert.notEqual(
      derivedName('', { schema: 'a', name: 't' }, '_idx'.padEnd(70, 'x')),
      derivedName('', { schema: 'b', name: 't' }, '_idx'.padEnd(70, 'x')),
    );
  });

  it('retired backups of two long tables that share a prefix get distinct names within 63 bytes', () => {
    const a = names.backupTable({ schema: 'public', name: `${'t'.repeat(62)}a` }).name;
    const b = names.backupTable({ schema: 'public', name: `${'t'.repeat(62)}b` }).name;
    assert.notEqual(a, b);
    const ra = retiredBackupName(a, '20260101120000');
    const rb = retiredBackupName(b, '20260101120000');
    assert.notEqual(ra, rb);
    assert.ok(Buffer.byteLength(ra) <= 63 && ra.endsWith('_20260101120000'));
    assert.notEqual(
      names.backupTable({ schema: 'public', name: 's__t' }).name,
      names.backupTable({ schema: 's', name: 't' }).name,
    );
  });

  it('redacts URL passwords and registered secrets', () => {
    registerSecret('s3cr3t-pässword');
    assert.equal(redact('postgresql://bob:hunter2@db:5432/x'), 'postgresql://bob:****@db:5432/x');
    assert.equal(
      redact(`failed for s3cr3t-pässword and ${encodeURIComponent('s3cr3t-pässword')}`),
      'failed for **** and ****',
    );
  });
});
