// The one LogOutputChannel ("Tenant Migration"). Every line passes through the engine's redaction (once the engine
// is loaded it knows the passwords in use) and a URL-password scrub before that. The engine logs through the
// Logger interface and never sees the channel.
import * as vscode from 'vscode';
import type { Logger } from '../engine/events';
import { Disposable } from './lifecycle';

const URL_PASSWORD = /(postgres(?:ql)?:\/\/[^:@/\s]*):[^@\s]*@/gi;
const KEYWORD_PASSWORD = /(password=)[^&\s]*/gi;

export class ExtensionLog extends Disposable implements Logger {
  readonly channel: vscode.LogOutputChannel;
  private redactor: (text: string) => string = (t) => t;

  constructor() {
    super();
    this.channel = this.register(vscode.window.createOutputChannel('Tenant Migration', { log: true }));
  }

  /** The engine's redact(), which also knows every password the engine has been given. */
  useRedactor(redact: (text: string) => string): void {
    this.redactor = redact;
  }

  scrub(text: string): string {
    return this.redactor(text.replace(URL_PASSWORD, '$1:****@').replace(KEYWORD_PASSWORD, '$1****'));
  }

  info(message: string): void {
    this.channel.info(this.scrub(message));
  }
  warn(message: string): void {
    this.channel.warn(this.scrub(message));
  }
  error(message: string): void {
    this.channel.error(this.scrub(message));
  }
  debug(message: string): void {
    this.channel.debug(this.scrub(message));
  }
  trace(message: string): void {
    this.channel.trace(this.scrub(message));
  }

  show(): void {
    this.channel.show(true);
  }
}
