// "Select Connection": a quick pick of the user's profiles and DATABASE_URL from the environment.
import * as vscode from 'vscode';
import { ENVIRONMENT, type ConnectionService } from './connections';

interface Pick extends vscode.QuickPickItem {
  readonly value: string | 'add';
}

export async function pickConnection(connections: ConnectionService): Promise<string | 'add' | undefined> {
  const current = connections.selected();
  const items: Pick[] = connections.profiles.map((p) => ({
    label: `${p.production ? '$(warning)' : '$(database)'} ${p.name}`,
    description: `${p.user}@${p.host}:${p.port}/${p.database}${p.production ? ' · production' : ''}`,
    detail: current?.kind === 'profile' && current.name === p.name ? 'selected' : undefined,
    value: p.name,
  }));
  const env = connections.environmentUrl;
  if (env) {
    const description =
      connections.selected()?.kind === 'environment'
        ? current?.description
        : 'from the environment VS Code was started with';
    items.push({
      label: '$(terminal) DATABASE_URL',
      description,
      detail: current?.kind === 'environment' ? 'selected' : undefined,
      value: ENVIRONMENT,
    });
  }
  items.push({ label: '$(add) Add Connection…', value: 'add' });
  const picked = await vscode.window.showQuickPick(items, {
    title: 'Tenant Migration: Select Connection',
    placeHolder: 'The database the checklist and the run use',
  });
  return picked?.value;
}
