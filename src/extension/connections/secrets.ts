// Passwords live in VS Code's SecretStorage only, keyed by host, port, database and user.
import type * as vscode from 'vscode';
import { secretKey, type Profile } from './profile';

type Account = Pick<Profile, 'host' | 'port' | 'database' | 'user'>;

export class PasswordStore {
  constructor(private readonly secrets: vscode.SecretStorage) {}

  get(account: Account): Thenable<string | undefined> {
    return this.secrets.get(secretKey(account));
  }

  async set(account: Account, password: string): Promise<void> {
    await this.secrets.store(secretKey(account), password);
  }

  async delete(account: Account): Promise<void> {
    await this.secrets.delete(secretKey(account));
  }
}
