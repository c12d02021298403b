// Mocha root hooks: one PostgreSQL for the whole run (embedded, or TEST_DATABASE_URL), stopped at the end.
import { stopTestServer } from './database';

export const mochaHooks = {
  async afterAll(this: Mocha.Context) {
    this.timeout(30_000);
    await stopTestServer();
  },
};
