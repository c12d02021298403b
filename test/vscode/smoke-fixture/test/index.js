// In-host test entry point (extensionTestsPath): VS Code calls run() inside the extension host.
// Uses the repo's mocha; mocha 12 is ESM, so require() returns its namespace (Node >= 20.19 / 22.12).
const path = require('path');
const mochaModule = require('mocha');
const Mocha = mochaModule.default || mochaModule;

exports.run = function run() {
  const mocha = new Mocha({ ui: 'bdd', color: false, timeout: 20000 });
  mocha.addFile(path.join(__dirname, 'smoke.test.js'));
  return new Promise((resolve, reject) => {
    mocha.run((failures) => (failures ? reject(new Error(`${failures} test(s) failed`)) : resolve()));
  });
};
