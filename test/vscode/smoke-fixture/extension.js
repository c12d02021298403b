// Minimal extension: one command, "Smoke: Hello".
const vscode = require('vscode');

exports.activate = function activate(context) {
  context.subscriptions.push(
    vscode.commands.registerCommand('smoke.hello', () => {
      vscode.window.showInformationMessage('Hello from the smoke fixture!');
      return 'hello';
    }),
  );
};

exports.deactivate = function deactivate() {};
