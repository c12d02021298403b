// Writing commands ask in a terminal; without one they need --yes.
import readline from 'node:readline/promises';
import { usageError } from '../engine/errors';

export async function confirm(question: string, yes: boolean): Promise<boolean> {
  if (yes) return true;
  if (!process.stdin.isTTY || !process.stderr.isTTY) {
    throw usageError(
      'This command changes the database and there is no terminal to confirm it',
      'Pass --yes to confirm non-interactively.',
    );
  }
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`${question} [y/N] `);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}
