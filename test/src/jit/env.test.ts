/**
 * What needs a fresh process: KILN_DISABLE_JIT and KILN_LOG are read when kiln loads, and
 * standard (TC39) method decorators are lowered by tsx's compiler but not by the one this
 * test runner uses, so `@jit` on a method runs in a child process under tsx. The child
 * (fixtures/child.ts) checks its results against eager execution bit for bit.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { seedFor } from '../random-inputs.js';
import { lineOf } from './compare.js';

const child = fileURLToPath(new URL('./fixtures/child.ts', import.meta.url));
const root = fileURLToPath(new URL('../../../', import.meta.url));

interface ChildResult {
  json: { mode: string; stats: Record<string, number>; projectStats?: Record<string, number>; runs?: number; explained?: string; mismatches: string[] };
  stderr: string;
}

function runChild(mode: string, env: Record<string, string | undefined>): ChildResult {
  const base: Record<string, string | undefined> = { ...process.env };
  delete base.KILN_LOG;
  delete base.KILN_DISABLE_JIT;
  const r = spawnSync(process.execPath, ['--import', 'tsx', child, mode, String(seedFor(`jit child ${mode}`))], {
    cwd: root,
    env: { ...base, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (r.status !== 0) throw new Error(`child ${mode} exited with ${r.status}:\n${r.stderr}`);
  const line = r.stdout.trim().split('\n').at(-1)!;
  return { json: JSON.parse(line) as ChildResult['json'], stderr: r.stderr };
}

// Each test starts Node with tsx, which compiles kiln afresh: ~2 s alone, past 5 s on a
// loaded 2-core CI machine. The child's own limit (60 s) bounds each test.
const CHILD_TIMEOUT = 70_000;

describe('environment switches (child processes)', { timeout: CHILD_TIMEOUT }, () => {
  it('KILN_DISABLE_JIT=1 runs the function on every call', () => {
    const { json } = runChild('disable', { KILN_DISABLE_JIT: '1' });
    expect(json.mismatches).toEqual([]);
    expect(json.runs).toBe(12);
    expect(json.stats).toMatchObject({ calls: 12, traces: 0, replays: 0, variants: 0 });
  });

  it('without KILN_DISABLE_JIT the same program replays', () => {
    const { json } = runChild('disable', {});
    expect(json.mismatches).toEqual([]);
    expect(json.runs).toBe(2);
    expect(json.stats).toMatchObject({ calls: 12, traces: 2, replays: 10 });
  });

  it('KILN_LOG=guards prints each failed guard with its source line, and nothing else', () => {
    const { json, stderr } = runChild('log', { KILN_LOG: 'guards' });
    expect(json.mismatches).toEqual([]);
    expect(json.stats.fallbacks).toBeGreaterThan(0);
    const lines = stderr.split('\n').filter((l) => l.startsWith('[kiln'));
    expect(lines).toHaveLength(json.stats.fallbacks!);
    const line = lineOf(child, 'guard: logged');
    for (const l of lines) {
      expect(l).toMatch(new RegExp(`^\\[kiln guards\\] body: guard item\\(\\) at \\S*fixtures/child\\.ts:${line}:\\d+ failed: traced \\[1\\], this call \\[0\\]; running eagerly$`));
    }
  });

  it('KILN_LOG=kernels prints each kernel as it compiles, and only then, naming the function, variant and nodes', () => {
    const { json, stderr } = runChild('log', { KILN_LOG: 'kernels' });
    expect(json.mismatches).toEqual([]);
    const heads = [...stderr.matchAll(/\[kiln kernels\] (.*) compiled\n/g)].map((m) => m[1]!);
    for (const h of heads) expect(h).toMatch(/^(eager op|jit\(body\) variant \d+ of \S+: kernel for (%\d+ ?)+)$/);
    expect(heads.some((h) => h.startsWith('jit(body) variant 1 of '))).toBe(true);
    const logged = stderr.split(/\[kiln kernels\] .* compiled\n/).slice(1);
    expect(logged.length).toBeGreaterThan(0);
    // The JavaScript engine logs its source; the Wasm engine says what it made, for which spec.
    const jsSource = /^'use strict';\nreturn function \w+\(/;
    const wasmKernel = /^\((wasm module of \d+ bytes|host driver over Wasm kernels)\) \S/;
    for (const source of logged) expect(jsSource.test(source) || wasmKernel.test(source), source).toBe(true);
    // Each kernel is compiled once, so no source repeats.
    expect(new Set(logged).size).toBe(logged.length);
  });

  it('without KILN_LOG nothing is printed', () => {
    const { json, stderr } = runChild('log', {});
    expect(json.mismatches).toEqual([]);
    expect(stderr).not.toContain('[kiln');
  });
});

describe('@jit as a standard method decorator (compiled by tsx in a child process)', { timeout: CHILD_TIMEOUT }, () => {
  it('the same @jit method on several instances uses each instance\'s parameters and settings', () => {
    const { json } = runChild('decorator', {});
    expect(json.mismatches).toEqual([]);
    expect(json.stats.calls).toBe(14);
    expect(json.stats.replays).toBeGreaterThan(0);
    // @jit({ strict: true }): the same checks through the decorator that takes options.
    expect(json.projectStats).toMatchObject({ calls: 14, fallbacks: 0 });
    expect(json.projectStats!.replays).toBeGreaterThan(0);
    expect(json.explained).toBe('compiled');
  });
});
