// The request's org, for every org type: what the cast accepts is that value, a malformed value (or '') is no org
// and never an error (the guards that rely on it: tenant-write-guards.test.ts).
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { contextSentExpression, currentOrgExpression } from '../../src/engine/script/context';

describe(`the request's org, for every org type: a malformed value is no org, never an error (PostgreSQL ${process.env.TEST_PG_MAJOR ?? 17})`, () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase({ seed: false });
  });
  after(async () => {
    await db.drop();
  });

  const SAMPLES: Record<string, string[]> = {
    uuid: [
      'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
      'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11',
      '{a0eebc99-9c0b4ef8-bb6d6bb9-bd380a11}',
      'a0eebc999c0b4ef8bb6d6bb9bd380a11',
      'a0ee-bc99-9c0b-4ef8-bb6d-6bb9-bd38-0a11',
      '{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
      'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1',
      'g0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
      '',
      'abc',
      '1',
    ],
    bigint: [
      '7',
      '-7',
      '+7',
      ' 7 ',
      '9223372036854775807',
      '-9223372036854775808',
      '9223372036854775808',
      '99999999999999999999',
      '',
      'abc',
      '2.0',
      '1e3',
      '0x1F',
    ],
    integer: ['7', '2147483647', '2147483648', '-2147483649', '007', '', 'abc', '7a'],
    smallint: ['32767', '32768', '-1'],
    text: ['acme', ' ', '', '{"a":1}'],
  };

  for (const [type, samples] of Object.entries(SAMPLES)) {
    it(`${type}: what the cast accepts is that value; what it refuses (or '') is NULL, sent`, async () => {
      const context = { kind: 'supabase-jwt' as const, claim: 'org_id' };
      for (const sample of samples) {
        await db.client.query('BEGIN');
        try {
          await db.client.query(`SELECT set_config('request.jwt.claims', $1, true)`, [
            JSON.stringify({ org_id: sample }),
          ]);
          const {
            rows: [got],
          } = await db.client.query(
            `SELECT ${currentOrgExpression(context, type)}::text AS org, ${contextSentExpression(context)} AS sent`,
          );
          await db.client.query('SAVEPOINT probe');
          const cast = await db.client.query(`SELECT $1::text::${type}::text AS v`, [sample]).then(
            (r) => r.rows[0].v as string,
            async () => {
              await db.client.query('ROLLBACK TO probe');
              return null;
            },
          );
          // PostgreSQL 16 reads 0x1F as an integer: the tool reads only decimal digits, and denies the rest.
          const expected = sample === '' || sample === '0x1F' ? null : cast;
          assert.deepEqual(got, { org: expected, sent: true }, `${type} ${JSON.stringify(sample)}`);
        } finally {
          await db.client.query('ROLLBACK');
        }
      }
      const {
        rows: [none],
      } = await db.client.query(
        `SELECT ${currentOrgExpression(context, type)}::text AS org, ${contextSentExpression(context)} AS sent`,
      );
      assert.deepEqual(none, { org: null, sent: false }, 'no claims at all');
    });
  }

  it("a setting: '' is none (what SET LOCAL leaves on a pooled connection), 'abc' is sent and no org", async () => {
    const context = { kind: 'setting' as const, name: 'app.current_org_id' };
    const read = async (value: string) => {
      await db.client.query('BEGIN');
      try {
        await db.client.query(`SELECT set_config('app.current_org_id', $1, true)`, [value]);
        return (
          await db.client.query(
            `SELECT ${currentOrgExpression(context, 'bigint')} AS org, ${contextSentExpression(context)} AS sent`,
          )
        ).rows[0];
      } finally {
        await db.client.query('ROLLBACK');
      }
    };
    assert.deepEqual(await read(''), { org: null, sent: false });
    assert.deepEqual(await read('abc'), { org: null, sent: true });
    assert.deepEqual(await read('42'), { org: '42', sent: true });
  });
});
