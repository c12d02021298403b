// A connection profile: where a database is, never its password (that lives in SecretStorage, see secrets.ts).
import * as z from 'zod/mini';

export const SSL_MODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'] as const;
export type SslMode = (typeof SSL_MODES)[number];

const text = z.string().check(z.trim(), z.minLength(1, 'must not be empty'));

export const profileSchema = z.strictObject({
  name: text,
  host: text,
  port: z._default(z.int().check(z.gte(1), z.lte(65535)), 5432),
  database: text,
  user: text,
  sslMode: z._default(z.enum(SSL_MODES), 'prefer'),
  sslRootCert: z.optional(z.string()),
  production: z._default(z.boolean(), false),
});

export type Profile = z.output<typeof profileSchema>;
export type ProfileInput = z.input<typeof profileSchema>;

/** The key of a password in SecretStorage: the server and the account it opens, not the profile's name. */
export function secretKey(p: Pick<Profile, 'host' | 'port' | 'database' | 'user'>): string {
  return `tenantMigration.password:${JSON.stringify([p.host.toLowerCase(), p.port, p.database, p.user])}`;
}

export function describeProfile(p: Pick<Profile, 'host' | 'port' | 'database' | 'user'>): string {
  return `${p.user}@${p.host}:${p.port}/${p.database}`;
}
