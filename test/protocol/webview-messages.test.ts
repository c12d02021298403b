// The plan preview's message validation, without VS Code: what the webview may send (and the host), and what is
// rejected, in a bounded line.
import assert from 'node:assert/strict';
import { MAX_SCRIPT_LINE, parseHostMessage, parseWebviewMessage, type WebviewMessage } from '../../src/shared/protocol';

describe('plan preview protocol', () => {
  describe('parseWebviewMessage', () => {
    const valid: WebviewMessage[] = [
      { type: 'ready' },
      { type: 'writeMappingStub' },
      { type: 'run' },
      { type: 'generateScript' },
      { type: 'refresh' },
      { type: 'openScriptAt', line: 1 },
      { type: 'openScriptAt', line: 182 },
      { type: 'openScriptAt', line: MAX_SCRIPT_LINE },
    ];
    for (const message of valid) {
      it(`accepts ${JSON.stringify(message)}`, () => {
        const result = parseWebviewMessage(structuredClone(message));
        assert.ok(result.ok, result.ok ? '' : result.error);
        assert.deepEqual(result.message, message);
      });
    }

    const invalid: [string, unknown][] = [
      ['an unknown type', { type: 'executeCommand', command: 'workbench.action.terminal.new' }],
      ['a command id', { type: 'command', id: 'tenantMigration.run' }],
      ['a type in another case', { type: 'Run' }],
      ['no type', { line: 3 }],
      ['a non-string type', { type: 1 }],
      ['null', null],
      ['undefined', undefined],
      ['a string', 'run'],
      ['an array', [{ type: 'run' }]],
      ['extra junk on an action', { type: 'run', command: 'rm -rf /' }],
      ['extra junk on ready', { type: 'ready', version: 2 }],
      ['extra junk on openScriptAt', { type: 'openScriptAt', line: 3, path: '/etc/passwd' }],
      ['a line as a string', { type: 'openScriptAt', line: '12' }],
      ['a fractional line', { type: 'openScriptAt', line: 1.5 }],
      ['line 0', { type: 'openScriptAt', line: 0 }],
      ['a negative line', { type: 'openScriptAt', line: -4 }],
      ['a line past any script', { type: 'openScriptAt', line: MAX_SCRIPT_LINE + 1 }],
      ['NaN', { type: 'openScriptAt', line: Number.NaN }],
      ['Infinity', { type: 'openScriptAt', line: Number.POSITIVE_INFINITY }],
      ['no line', { type: 'openScriptAt' }],
      ['a host message echoed back', { type: 'busy', message: 'x' }],
    ];
    for (const [what, data] of invalid) {
      it(`rejects ${what}`, () => {
        const result = parseWebviewMessage(data);
        assert.equal(result.ok, false);
        if (!result.ok) assert.match(result.error, /^rejected /);
      });
    }

    it('says what it rejected in a bounded line (for the log)', () => {
      const result = parseWebviewMessage({ type: 'x'.repeat(10_000), payload: 'y'.repeat(10_000) });
      assert.equal(result.ok, false);
      if (!result.ok) assert.ok(result.error.length < 400, result.error);
      const wrongType = parseWebviewMessage({ type: 'openScriptAt', line: '12' });
      if (!wrongType.ok) assert.match(wrongType.error, /openScriptAt.*line/);
    });

    it('validates host messages too', () => {
      assert.ok(parseHostMessage({ type: 'busy', message: 'Reading…' }).ok);
      assert.ok(parseHostMessage({ type: 'error', message: 'boom', next: 'do this' }).ok);
      assert.equal(parseHostMessage({ type: 'error', message: 3 }).ok, false);
      assert.equal(parseHostMessage({ type: 'plan', plan: {} }).ok, false);
    });
  });
});
