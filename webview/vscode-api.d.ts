// The API VS Code injects into a webview (https://code.visualstudio.com/api/extension-guides/webview).
interface VsCodeWebviewApi<State> {
  postMessage(message: unknown): void;
  getState(): State | undefined;
  setState(state: State): State;
}
declare function acquireVsCodeApi<State = unknown>(): VsCodeWebviewApi<State>;
