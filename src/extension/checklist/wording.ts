// The engine words what to do next for both front ends, naming the CLI's commands; inside VS Code the checklist and
// the messages name the extension's commands instead. Pure.
const IN_VS_CODE: readonly [RegExp, string][] = [
  [/"tenant-migrate plan" lists them all/g, 'Preview Plan lists them all'],
  [/\("tenant-migrate plan" lists them all\)/g, '(Preview Plan lists them all)'],
  [/"?tenant-migrate plan"?/g, 'Preview Plan'],
  [/"?tenant-migrate verify-isolation"?/g, 'Verify Isolation'],
  [/"?tenant-migrate enforce --app-sends-context"?/g, 'Enforce Isolation'],
  [/"?tenant-migrate enforce --undo"?/g, 'Enforce Isolation (back to transition mode)'],
  [/\(?tenant-migrate generate --force\)?/g, '(Generate Script, replacing the existing one)'],
  [/"?tenant-migrate migrate"?/g, 'Migrate'],
  [/"?tenant-migrate rollback"?/g, 'Roll Back'],
];

export function inVsCode(text: string): string {
  return IN_VS_CODE.reduce((t, [pattern, replacement]) => t.replace(pattern, replacement), text);
}
