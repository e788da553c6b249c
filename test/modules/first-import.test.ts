/**
 * Any module can be imported first: each module of src/, compiler/ and runtime/ is loaded
 * into a fresh module graph (vi.resetModules drops every module of kiln that an earlier
 * import evaluated), so no module relies on another having been initialized before it.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it, vi } from 'vitest';
import { modulesUnder, root } from './module-graph.js';

// kiln/register installs a module hook for the whole process: it is imported first in a
// child process of its own, as `node --import kiln/register` does.
const PROCESS_HOOKS = ['src/register.ts'];
const modules = modulesUnder('src', 'compiler', 'runtime').filter((f) => !PROCESS_HOOKS.includes(f));

describe('importing a module first', () => {
  it('evaluates each module again after a reset', async () => {
    vi.resetModules();
    const first = await import('../../src/observers.js');
    vi.resetModules();
    const second = await import('../../src/observers.js');
    expect(second.activeObservers).not.toBe(first.activeObservers);
  });

  it.each(modules)('%s', async (file) => {
    vi.resetModules();
    const namespace: object = await import(/* @vite-ignore */ `../../${file}`);
    expect(namespace).toBeTypeOf('object');
  });

  it.each(PROCESS_HOOKS)('%s, in a child process', (file) => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--import', `${root}/${file}`, '-e', ''], {
      cwd: root, encoding: 'utf8', timeout: 50_000,
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
