// Starts an embedded PostgreSQL for repeated bench runs and keeps it up until interrupted: the bench then reuses its
// dataset templates (`npm run bench -- --database-url URL`). Prints the URL (it holds a random password) once.
// Usage: tsx bench/serve.ts [15|17] [name=value ...]
import { startEmbeddedServer, type PgMajor } from '../test/support/embedded-server';

async function main(): Promise<void> {
  const [major = '15', ...settings] = process.argv.slice(2);
  const server = await startEmbeddedServer(
    Number(major) as PgMajor,
    () => {},
    Object.fromEntries(settings.map((s) => s.split('=') as [string, string])),
  );
  console.log(server.adminUrl);
  const stop = () => {
    server.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  setInterval(() => {}, 1 << 30);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
