// The manifest and the registrations agree: every command in package.json is registered and every registered
// command is in package.json; every command is in the "Tenant Migration" category; menus only name real commands;
// activation is lazy.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import { COMMANDS } from '../../../src/extension/commands/definitions';
import { STEP_IDS, stepDefinition } from '../../../src/engine/steps';
import { extension } from './helpers';

interface Manifest {
  activationEvents: string[];
  main: string;
  contributes: {
    commands: { command: string; title: string; category?: string }[];
    menus: Record<string, { command: string }[]>;
    views: Record<string, { id: string }[]>;
    viewsWelcome: { view: string; contents: string; when: string }[];
    jsonValidation: { fileMatch: string; url: string }[];
    configuration: { properties: Record<string, { scope?: string }> };
  };
  capabilities: { untrustedWorkspaces: { supported: string | boolean } };
}

describe('manifest and registrations', () => {
  let manifest: Manifest;
  let root: string;

  before(async () => {
    const { ext } = await extension();
    manifest = ext.packageJSON as Manifest;
    root = ext.extensionPath;
  });

  it('registers every command package.json contributes, and nothing else', async () => {
    const contributed = manifest.contributes.commands.map((c) => c.command).sort();
    // VS Code itself registers <view id>.focus, .open, … for each contributed view: those are not the extension's.
    const viewCommands = Object.values(manifest.contributes.views)
      .flat()
      .map((v) => `${v.id}.`);
    const registered = (await vscode.commands.getCommands(true))
      .filter((id) => id.startsWith('tenantMigration.') && !viewCommands.some((prefix) => id.startsWith(prefix)))
      .sort();
    assert.deepEqual(registered, contributed);
    assert.ok(contributed.length >= 20, `${contributed.length} commands`);
    // Activation registers the manifest's ids and forwards each to the command table's handler: the table has them all.
    assert.deepEqual(COMMANDS.map((c) => c.id).sort(), contributed);
  });

  it("contributes each step command of the registry (src/engine/steps.ts) with the registry's title", () => {
    const titles = new Map(manifest.contributes.commands.map((c) => [c.command, c.title]));
    const stepCommands = STEP_IDS.flatMap((id) => stepDefinition(id).command ?? []);
    assert.ok(stepCommands.length >= 9, `${stepCommands.length} step commands`);
    for (const command of stepCommands) assert.equal(titles.get(command.id), command.title, command.id);
  });

  it('puts every command in the "Tenant Migration" category, with the palette titles the issue names', () => {
    for (const c of manifest.contributes.commands) assert.equal(c.category, 'Tenant Migration', c.command);
    const titles = manifest.contributes.commands.map((c) => c.title);
    for (const title of [
      'Run',
      'Preview Plan',
      'Add Connection',
      'Select Connection',
      'Test Connection',
      'Back Up',
      'Migrate',
      'Validate',
      'Verify Isolation',
      'Roll Back',
      'Generate Script',
      'Open Report',
      'Show Log',
    ]) {
      assert.ok(titles.includes(title), `a command titled "${title}"`);
    }
  });

  it('names only contributed commands in menus, and welcome views for the empty states', () => {
    const ids = new Set(manifest.contributes.commands.map((c) => c.command));
    for (const [menu, entries] of Object.entries(manifest.contributes.menus)) {
      for (const e of entries) assert.ok(ids.has(e.command), `${menu} names ${e.command}`);
    }
    const welcome = manifest.contributes.viewsWelcome.map((w) => w.contents).join('\n');
    assert.match(welcome, /command:tenantMigration\.createSpec/);
    assert.match(welcome, /command:tenantMigration\.addConnection/);
    assert.deepEqual(
      manifest.contributes.views.tenantMigration!.map((v) => v.id),
      ['tenantMigration.checklist'],
    );
  });

  it("activates lazily, declares Workspace Trust, scopes every setting, and validates the spec with the engine's schema", () => {
    assert.ok(
      !manifest.activationEvents.includes('*') && !manifest.activationEvents.includes('onStartupFinished'),
      manifest.activationEvents.join(', '),
    );
    assert.equal(manifest.capabilities.untrustedWorkspaces.supported, 'limited');
    for (const [key, setting] of Object.entries(manifest.contributes.configuration.properties))
      assert.ok(setting.scope, `${key} has a scope`);
    assert.equal(manifest.contributes.configuration.properties['tenantMigration.connections']!.scope, 'application');
    const validation = manifest.contributes.jsonValidation.find((v) => v.fileMatch === 'tenant-migration.json');
    assert.ok(validation);
    const schema = JSON.parse(fs.readFileSync(path.join(root, validation.url), 'utf8')) as {
      properties: Record<string, unknown>;
    };
    for (const field of ['orgs', 'defaultOrgId', 'tables', 'tenantContext'])
      assert.ok(field in schema.properties, `the schema describes ${field}`);
  });

  it('keeps the engine out of activation: the extension bundle has no pg, libpg-query, jsonc-parser or plan preview host', async () => {
    const { api } = await extension();
    const bundle = fs.readFileSync(path.join(root, manifest.main), 'utf8');
    for (const heavy of ['pg-protocol', 'SCRAM-SHA-256', 'libpg-query', 'jsonc-parser', 'tenantMigration.planPreview'])
      assert.ok(!bundle.includes(heavy), `${heavy} is not in ${manifest.main}`);
    assert.ok(api.activationMs < 1000, `activated in ${api.activationMs.toFixed(1)} ms`);
    console.log(
      `      (activation: ${api.activationMs.toFixed(1)} ms; ${manifest.main}: ${(bundle.length / 1024).toFixed(0)} kB)`,
    );
  });
});
