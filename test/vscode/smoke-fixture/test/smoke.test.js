const assert = require('assert');
const vscode = require('vscode');

describe('smoke fixture in a real VS Code', () => {
  it('contributes and registers "Smoke: Hello"', async () => {
    const ext = vscode.extensions.getExtension('tenant-migration.smoke-fixture');
    assert.ok(ext, 'the development extension is loaded');
    const contributed = ext.packageJSON.contributes.commands.find((c) => c.command === 'smoke.hello');
    assert.deepStrictEqual([contributed.category, contributed.title], ['Smoke', 'Hello']);
    await ext.activate();
    assert.ok((await vscode.commands.getCommands(true)).includes('smoke.hello'), 'smoke.hello is registered');
  });

  it('executes "Smoke: Hello"', async () => {
    assert.strictEqual(await vscode.commands.executeCommand('smoke.hello'), 'hello');
  });

  it("runs in the extension host with the runner's environment", () => {
    assert.ok(process.env.XDG_CONFIG_HOME && process.env.XDG_CONFIG_HOME.includes('vsc-run-'), 'hermetic XDG dirs');
    console.log(
      `  (VS Code ${vscode.version}, Node ${process.version}; TEST_DATABASE_URL is ${process.env.TEST_DATABASE_URL ? '' : 'not '}set)`,
    );
  });
});
