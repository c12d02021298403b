// Disposables with an owner: a service registers what it creates and disposes it, in reverse order, with itself.
import type * as vscode from 'vscode';

export class Disposable implements vscode.Disposable {
  private readonly owned: vscode.Disposable[] = [];
  private disposed = false;

  /** Takes ownership of a disposable; it is disposed with this object. */
  protected register<T extends vscode.Disposable>(disposable: T): T {
    if (this.disposed) disposable.dispose();
    else this.owned.push(disposable);
    return disposable;
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const d of this.owned.splice(0).reverse()) {
      try {
        d.dispose();
      } catch (error) {
        console.error('Tenant Migration: dispose failed', error);
      }
    }
  }
}
