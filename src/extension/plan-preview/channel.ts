// The host side of the ready handshake, without 'vscode' (so plain mocha tests it). Messages for the webview wait
// until it says `ready`; as the webview is torn down whenever it is hidden (retainContextWhenHidden is off) and then
// says `ready` again, what it needs on every `ready` is the current state: the last plan, then the busy or error
// state that followed it. So the queue keeps exactly that, and replays it.
import type { HostMessage } from '../../shared/protocol';

type PlanMessage = Extract<HostMessage, { type: 'plan' }>;
type StatusMessage = Extract<HostMessage, { type: 'busy' | 'error' }>;

export class PreviewChannel {
  private ready = false;
  private plan: PlanMessage | undefined;
  private status: StatusMessage | undefined;

  constructor(private readonly deliver: (message: HostMessage) => void) {}

  /** Sends now if the webview is ready, else keeps it as part of the state sent on the next `ready`. */
  post(message: HostMessage): void {
    if (message.type === 'plan') {
      this.plan = message;
      this.status = undefined;
    } else {
      this.status = message;
    }
    if (this.ready) this.deliver(message);
  }

  /** The webview (re)loaded and asked for its state. */
  onReady(): void {
    this.ready = true;
    for (const message of [this.plan, this.status]) if (message) this.deliver(message);
  }

  /** The webview was torn down: hold messages until it is ready again. */
  onHidden(): void {
    this.ready = false;
  }
}
