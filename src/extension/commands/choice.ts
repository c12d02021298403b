// A yes/no a command takes from its arguments (tests, the checklist) or else asks for with a two-item quick pick.
import * as vscode from 'vscode';

export interface Choice {
  readonly label: string;
  readonly detail: string;
}

/** `args[key]` when it is a boolean; otherwise the operator's pick (false: the first choice, true: the second). */
export async function chooseFlag(
  args: unknown,
  key: string,
  choices: readonly [Choice, Choice],
  title: string,
  placeHolder: string,
): Promise<boolean | undefined> {
  const given = (args as Record<string, unknown> | undefined)?.[key];
  if (typeof given === 'boolean') return given;
  const picked = await vscode.window.showQuickPick(
    choices.map((c, i) => ({ ...c, value: i === 1 })),
    { title, placeHolder, ignoreFocusOut: true },
  );
  return picked?.value;
}
