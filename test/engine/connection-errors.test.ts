// Every connection error names its cause and its fix; Supabase's IPv6-only direct host points to the session pooler.
import assert from 'node:assert/strict';
import net from 'node:net';
import { connectionFailure, parseConnectionUrl } from '../../src/engine/db/connection-options';
import { Session } from '../../src/engine/db/session';
import { MigrationError } from '../../src/engine/errors';

const fail = (url: string, error: unknown) => connectionFailure(error, parseConnectionUrl(url)) as MigrationError;
const sysError = (code: string) => Object.assign(new Error(`connect ${code}`), { code });

describe('connection errors name their fix', () => {
  for (const code of ['ENETUNREACH', 'EHOSTUNREACH', 'ENOTFOUND', 'ETIMEDOUT', 'EADDRNOTAVAIL']) {
    it(`Supabase's direct host unreachable (${code}): IPv6-only, use the session pooler on port 5432`, () => {
      const e = fail('postgresql://postgres:pw@db.abcdefghijklmnop.supabase.co:5432/postgres', sysError(code));
      assert.equal(e.exitCode, 4);
      assert.match(e.message, /db\.abcdefghijklmnop\.supabase\.co cannot be reached from this network .*IPv6-only/);
      assert.match(
        e.next,
        /session pooler.*postgres\.abcdefghijklmnop@aws-0-<region>\.pooler\.supabase\.com:5432\/postgres — port 5432; the transaction pooler \(6543\)/,
      );
    });
  }

  it('an AggregateError (a host with several addresses) is read through its first error', () => {
    const aggregate = Object.assign(new AggregateError([sysError('ENETUNREACH'), sysError('ETIMEDOUT')], ''), {});
    assert.match(
      fail('postgresql://postgres@db.abcdefghijklmnop.supabase.co/postgres', aggregate).next,
      /session pooler/,
    );
  });

  it('the pooler without the project ref in the user name says how to write it', () => {
    const e = fail(
      'postgresql://postgres@aws-0-eu-central-1.pooler.supabase.com:5432/postgres',
      Object.assign(new Error('Tenant or user not found'), { code: 'XX000' }),
    );
    assert.match(e.message, /does not know the user "postgres"/);
    assert.match(e.next, /postgres\.<project-ref>/);
  });

  it('the transaction pooler stays refused, with its reason', async () => {
    await assert.rejects(
      Session.open('postgresql://postgres.abc@aws-0-eu-central-1.pooler.supabase.com:6543/postgres', {}),
      (e: MigrationError) =>
        e.exitCode === 3 &&
        /transaction-mode pooler, which breaks the session lock/.test(e.message) &&
        /session-mode pooler/.test(e.next),
    );
  });

  it('every other failure names a fix, never just "check the settings"', () => {
    const cases: unknown[] = [
      sysError('ECONNREFUSED'),
      sysError('ENOTFOUND'),
      sysError('ETIMEDOUT'),
      sysError('ECONNRESET'),
      sysError('EHOSTUNREACH'),
      Object.assign(new Error('password authentication failed'), { code: '28P01' }),
      Object.assign(new Error('no pg_hba.conf entry'), { code: '28000' }),
      Object.assign(new Error('database "x" does not exist'), { code: '3D000' }),
      new Error('The server does not support SSL connections'),
      new Error('self-signed certificate in certificate chain'),
      new Error('Connection terminated due to connection timeout'),
      new Error('something unexpected'),
    ];
    for (const error of cases) {
      const e = fail('postgresql://app@db.internal:5432/app', error);
      assert.equal(e.exitCode, 4, e.message);
      assert.ok(e.next.length > 20 && !/^Check the connection settings\.?$/.test(e.next), `${e.message}: ${e.next}`);
    }
    assert.match(fail('postgresql://app@[fd00::1]:5432/app', sysError('ENETUNREACH')).next, /IPv6 address/);
  });

  it('a real refused connection says nothing accepts connections there and how to fix it', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await assert.rejects(
      Session.open(`postgresql://app@127.0.0.1:${port}/app?sslmode=disable`, {}),
      (e: MigrationError) =>
        e.exitCode === 4 &&
        new RegExp(`Nothing accepts connections at 127\\.0\\.0\\.1:${port}`).test(e.message) &&
        /server is running/.test(e.next),
    );
  });
});
