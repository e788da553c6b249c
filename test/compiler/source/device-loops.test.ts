/**
 * The seed loop on WebGPU through both build-time rewrites: kiln/register (a child process
 * under `node --import tsx --import src/register.ts`) and the kiln/vite plugin (the program
 * stripped of types by oxc, rewritten by the plugin's transform and imported). Either way
 * the loop is traced without reading its condition, every start gives the plain-JS answer,
 * one variant serves every trip count, and each replay is one WGSL kernel launch.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { transformWithOxc } from 'vite';
import { afterAll, describe, expect, it } from 'vitest';
import type { RawSourceMap } from '../../../compiler/source/mappings.js';
import { webgpu } from '../../../src/index.js';
import { kiln } from '../../../src/vite.js';
import { initEagerForTests } from '../../webgpu.js';
import { PROGRAMS, ROOT, siteString } from './helpers.js';
import { starts } from './programs/seed-gpu.js';

const ready = await initEagerForTests('device loops through the rewrites');
afterAll(() => webgpu.destroy());
const onGpu = describe.skipIf(!ready);

type Report = { values: number[][]; expected: number[][]; launches: number[]; stats: Record<string, number>; loops: string[] };

/** What every run of ./programs/seed-gpu.ts must report; `site` names the loop as that rewrite does. */
function check(r: Report, site: string): void {
  expect(r.values[0]).toEqual([20, 20]);
  expect(r.values).toEqual(r.expected);
  // Some starts run no iteration at all: the kernel's loop must handle a zero trip count.
  expect(starts().filter(([a, b]) => a >= b).length).toBeGreaterThanOrEqual(2);
  // Two traces (the second confirms the first), then 40 replays of the one variant, one launch each.
  expect(r.stats).toEqual({ calls: 42, traces: 2, replays: 40, fallbacks: 0, variants: 1, recompiles: 0, untraced: 0 });
  expect(r.launches.slice(2)).toEqual(new Array(40).fill(1));
  expect(r.loops).toEqual([`loop at ${site}: lifted into one loop node (2 loop variables, 0 loop-invariant tensors; `
    + 'traced symbolically, without reading its condition); on WebGPU it runs as one WGSL kernel with the loop inside '
    + '(its condition and body are elementwise over one element): one launch per call, no readback']);
}

// Node, tsx and kiln compiled afresh in the child, WGSL pipelines built on lavapipe:
// tens of seconds on a loaded 2-core CI machine.
const CHILD_TIMEOUT = 130_000;

onGpu('the seed loop on WebGPU', () => {
  it('through kiln/register: 20 and 20, plain-JS answers for 40 starts, one variant, one launch per replay', () => {
    const base: Record<string, string | undefined> = { ...process.env };
    delete base.KILN_LOG;
    delete base.KILN_DISABLE_JIT;
    delete base.NODE_OPTIONS;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--import', ROOT + 'src/register.ts', PROGRAMS + 'seed-gpu-main.ts'], {
      cwd: ROOT, env: base, encoding: 'utf8', timeout: CHILD_TIMEOUT - 10_000,
    });
    if (r.status !== 0) throw new Error(`child exited with ${r.status}:\n${r.stderr}`);
    const report = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Report;
    check(report, siteString(PROGRAMS + 'seed-gpu.ts', 'seed gpu while', 'first < second'));
  }, CHILD_TIMEOUT);

  it('through kiln/vite: the same answers, variant and launches', async () => {
    const file = PROGRAMS + 'seed-gpu.ts';
    const ts = await transformWithOxc(readFileSync(file, 'utf8'), file, { sourcemap: true });
    const out = kiln().transform.call({
      warnings: [], warn() {}, getCombinedSourcemap: () => ts.map as RawSourceMap,
    } as never, ts.code, file);
    expect(out, 'seed-gpu is rewritten').not.toBeNull();
    const temp = `${PROGRAMS}seed-gpu.vite-${process.pid}.mjs`;
    writeFileSync(temp, out!.code);
    try {
      const m = (await import(/* @vite-ignore */ temp)) as { run(): Promise<Report> };
      check(await m.run(), siteString(file, 'seed gpu while', 'first < second').slice(ROOT.length));
    } finally {
      rmSync(temp, { force: true });
    }
  }, CHILD_TIMEOUT);
});

type PowerReport = {
  calls: { readbacks: number; iterations: number; batches: number[]; error: number }[];
  stats: Record<string, number>; loops: string[];
};

onGpu('power iteration on WebGPU in an async function', () => {
  it('through kiln/vite: host-driven, readbacks per call at most ceil(n/k) + 1, CPU answers, one variant', async () => {
    const file = PROGRAMS + 'power-gpu.ts';
    const ts = await transformWithOxc(readFileSync(file, 'utf8'), file, { sourcemap: true });
    const out = kiln().transform.call({
      warnings: [], warn() {}, getCombinedSourcemap: () => ts.map as RawSourceMap,
    } as never, ts.code, file);
    expect(out!.code).toContain('await __kiln.liftAsync(');
    const temp = `${PROGRAMS}power-gpu.vite-${process.pid}.mjs`;
    writeFileSync(temp, out!.code);
    let r: PowerReport;
    try {
      r = await ((await import(/* @vite-ignore */ temp)) as { run(): Promise<PowerReport> }).run();
    } finally {
      rmSync(temp, { force: true });
    }
    for (const c of r.calls) {
      expect(c.error).toBeLessThan(2e-3);
      expect(c.iterations).toBeGreaterThan(8);
      expect(c.readbacks).toBe(c.batches.length);
      expect(c.readbacks).toBeLessThanOrEqual(Math.ceil(c.iterations / c.batches[0]!) + 1);
    }
    expect(r.stats).toMatchObject({ calls: 8, traces: 2, replays: 6, fallbacks: 0, variants: 1 });
    const site = siteString(file, 'power gpu while', 'v.sub(prev)').slice(ROOT.length);
    expect(r.loops).toHaveLength(1);
    expect(r.loops[0]).toContain(`loop at ${site}: lifted into one loop node (2 loop variables, 1 loop-invariant `);
    expect(r.loops[0]).toContain('on WebGPU it runs host-driven (its body does not fuse into one kernel');
  }, CHILD_TIMEOUT);
});
