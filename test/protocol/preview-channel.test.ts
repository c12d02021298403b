// The plan preview's ready handshake (PreviewChannel), without VS Code: what is sent before and after ready, while
// hidden and on return.
import assert from 'node:assert/strict';
import { toPlanView, type HostMessage } from '../../src/shared/protocol';
import { PreviewChannel } from '../../src/extension/plan-preview/channel';
import { samplePlan } from './support/sample-plan';

describe('plan preview protocol', () => {
  describe('the ready handshake (PreviewChannel)', () => {
    const plan = (scriptPath: string): HostMessage => ({
      type: 'plan',
      plan: { ...toPlanView(samplePlan()), scriptPath },
    });
    const busy: HostMessage = { type: 'busy', message: 'Reading the plan…' };
    const error: HostMessage = { type: 'error', message: 'boom', next: 'fix it' };
    const kinds = (messages: HostMessage[]) =>
      messages.map((m) => (m.type === 'plan' ? `plan:${m.plan.scriptPath}` : m.type));
    it('sends nothing before ready, then the state: the last plan and what followed it', () => {
      const delivered: HostMessage[] = [];
      const channel = new PreviewChannel((m) => delivered.push(m));
      channel.post(busy);
      channel.post(plan('a'));
      channel.post(busy);
      channel.post(plan('b'));
      channel.post(error);
      assert.deepEqual(delivered, []);
      channel.onReady();
      assert.deepEqual(kinds(delivered), ['plan:b', 'error']);
    });
    it('sends at once while ready, and a plan clears the busy or error state', () => {
      const delivered: HostMessage[] = [];
      const channel = new PreviewChannel((m) => delivered.push(m));
      channel.post(busy);
      channel.onReady();
      channel.post(plan('a'));
      assert.deepEqual(kinds(delivered), ['busy', 'plan:a']);
      channel.onHidden();
      channel.onReady();
      assert.deepEqual(kinds(delivered), ['busy', 'plan:a', 'plan:a']);
    });
    it('holds messages while the webview is hidden and replays the state when it is back', () => {
      const delivered: HostMessage[] = [];
      const channel = new PreviewChannel((m) => delivered.push(m));
      channel.onReady();
      channel.post(plan('a'));
      channel.onHidden();
      channel.post(busy);
      assert.deepEqual(kinds(delivered), ['plan:a']);
      channel.onReady();
      assert.deepEqual(kinds(delivered), ['plan:a', 'plan:a', 'busy']);
    });
    it('sends nothing on ready when there is nothing yet', () => {
      const delivered: HostMessage[] = [];
      new PreviewChannel((m) => delivered.push(m)).onReady();
      assert.deepEqual(delivered, []);
    });
  });
});
