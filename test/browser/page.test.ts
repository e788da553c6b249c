/**
 * A page built by Vite with the kiln plugin, in headless Chromium: eager ops, a jit'd
 * training step, a lifted `while` loop and a `@jit` method, on the CPU (bitwise equal to
 * the same code in Node) and on WebGPU (within float32 tolerance of the CPU). Once built
 * and served cross-origin isolated, once from `vite dev` without isolation, where the page
 * has no SharedArrayBuffer and everything runs single-threaded. Last, the bundle of the
 * workload, built for the browser, runs in Node.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { build, createServer, preview, type ViteDevServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PageReport, WorkloadResult } from './app/workload.js';
import { browserAvailable, launchChromium } from './chromium.js';
import { ROOT, appConfig as sharedConfig } from '../../examples/web/vite-setup.js';
import type { KilnPluginOptions } from '../../src/vite.js';
import { wasmFeatures } from '../../runtime/wasm/features.js';

const APP = `${ROOT}test/browser/app`;

/** The shared config, given inline (no config file is looked for). */
function appConfig(root: string, plugin: KilnPluginOptions = {}) {
  return { ...sharedConfig(root, plugin), configFile: false as const, logLevel: 'warn' as const };
}
const gpuRequired = process.env.KILN_REQUIRE_WEBGPU === '1';
/** Chromium has WebAssembly SIMD, so a page's CPU tensors run on the Wasm engine, isolated or not. */
const DEFAULT_ENGINE = { engine: 'wasm', reason: 'the default: this runtime has WebAssembly SIMD' };

/** The page's report, after its status says it finished. */
async function loadReport(browser: Browser, url: string): Promise<{ report: PageReport; errors: string[] }> {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  try {
    await page.goto(url);
    // Functions given as text run in the page (this file is typed for Node, without the DOM).
    await page.waitForFunction("document.getElementById('status').textContent !== 'running'", null, { timeout: 90_000 });
    const status = await page.textContent('#status');
    expect(status, 'the page finished without an error').toBe('done');
    return { report: (await page.evaluate('window.kilnReport')) as PageReport, errors };
  } finally {
    await page.close();
  }
}

/** Every number of a workload result, in a fixed order, with a label for each group. */
function flatten(r: WorkloadResult): [string, number[]][] {
  return [
    ...Object.entries(r.eager).map(([k, v]) => [`eager ${k}`, v] as [string, number[]]),
    ['losses', r.losses],
    ...r.parameters.map((p, i) => [`parameter ${i}`, p] as [string, number[]]),
    ...r.loop.map((l, i) => [`loop ${i}`, l] as [string, number[]]),
    ...r.decorated.map((d, i) => [`@jit forward ${i}`, d] as [string, number[]]),
  ];
}

function expectBitwise(actual: WorkloadResult, expected: WorkloadResult): void {
  expect(Object.keys(actual.eager)).toEqual(Object.keys(expected.eager));
  expect(flatten(actual).map(([label, v]) => [label, v.length])).toEqual(flatten(expected).map(([label, v]) => [label, v.length]));
  const want = flatten(expected);
  flatten(actual).forEach(([label, a], g) => {
    const b = want[g]![1];
    a.forEach((v, i) => { if (!Object.is(v, b[i])) expect.fail(`${label}[${i}]: ${v} vs ${b[i]}`); });
  });
}

/**
 * The CPU results of the page against Node's: bit for bit where both run the same kernels.
 * Where one has WebAssembly relaxed SIMD and the other not (Chromium has it, Node 20 only
 * behind a flag), float32 matmuls use fused multiply-add on one side only, so the two agree
 * within float32 rounding instead.
 */
function expectSameCpu(report: PageReport, node: WorkloadResult): void {
  if (report.relaxedSimd === wasmFeatures().relaxedSimd) expectBitwise(report.cpu, node);
  else expectClose(report.cpu, node, 1e-4, 1e-6);
}

function expectClose(actual: WorkloadResult, expected: WorkloadResult, rtol = 1e-3, atol = 1e-4): void {
  const want = flatten(expected);
  flatten(actual).forEach(([label, a], g) => {
    const b = want[g]![1];
    expect(a.length, label).toBe(b.length);
    a.forEach((v, i) => {
      if (Math.abs(v - b[i]!) > atol + rtol * Math.abs(b[i]!)) expect.fail(`${label}[${i}]: ${v} vs ${b[i]} (rtol ${rtol}, atol ${atol})`);
    });
  });
}

describe.skipIf(!browserAvailable)('a Vite-built page in headless Chromium', () => {
  let browser: Browser;
  let node: WorkloadResult;
  let outDir: string;
  let dev: ViteDevServer | undefined;

  beforeAll(async () => {
    outDir = mkdtempSync(join(tmpdir(), 'kiln-browser-'));
    const [launched] = await Promise.all([
      launchChromium(),
      build({ ...appConfig(APP), build: { ...appConfig(APP).build, outDir } }),
    ]);
    browser = launched;
    // The same workload in Node, through Vite's SSR loader with the same plugin.
    const ssr = await createServer({ ...appConfig(APP), appType: 'custom', server: { middlewareMode: true, hmr: false, ws: false } });
    try {
      const m = (await ssr.ssrLoadModule('/workload.ts')) as typeof import('./app/workload.js');
      node = await m.runWorkload('cpu');
    } finally {
      await ssr.close();
    }
  }, 180_000);

  afterAll(async () => {
    await dev?.close();
    await browser?.close();
    if (outDir) rmSync(outDir, { recursive: true, force: true });
  });

  it('built and served cross-origin isolated: CPU results equal Node bit for bit, WebGPU within float32 tolerance', async () => {
    const server = await preview({ ...appConfig(APP, { crossOriginIsolation: true }), build: { outDir }, preview: { port: 0, host: '127.0.0.1' } });
    try {
      const { report, errors } = await loadReport(browser, server.resolvedUrls!.local[0]!);
      expect(report.isolated).toBe(true);
      expect(report.sharedMemory).toBe(true);
      expect(report.cpuEngine).toEqual(DEFAULT_ENGINE);
      expectSameCpu(report, node);
      expect(report.cpu.loopStats).toMatchObject({ calls: 4, variants: 1 });
      expect(report.cpu.trainStats.replays).toBeGreaterThan(0);
      if ('error' in report.webgpu) {
        if (gpuRequired) expect.fail(`WebGPU in Chromium: ${report.webgpu.error}`);
        console.warn(`[kiln] WebGPU part of the browser test skipped: ${report.webgpu.error}`);
      } else {
        expectClose(report.webgpu, node);
        expect(report.webgpu.trainStats.replays).toBeGreaterThan(0);
      }
      expect(errors).toEqual([]);
    } finally {
      await new Promise<void>((done) => server.httpServer.close(() => done()));
    }
  }, 120_000);

  it('from vite dev, not isolated: no SharedArrayBuffer, single-threaded, the same CPU results', async () => {
    dev = await createServer({ ...appConfig(APP), server: { port: 0, host: '127.0.0.1', hmr: false, fs: { allow: [ROOT] } } });
    await dev.listen();
    const { report, errors } = await loadReport(browser, dev.resolvedUrls!.local[0]!);
    expect(report.isolated).toBe(false);
    expect(report.sharedMemory).toBe(false);
    expect(report.cpuEngine).toEqual(DEFAULT_ENGINE);
    expectSameCpu(report, node);
    expect(errors).toEqual([]);
  }, 120_000);

  it('the bundle has no decorator syntax, no builder path and no acorn, and runs in Node', async () => {
    const js = readdirSync(join(outDir, 'assets')).filter((f) => f.endsWith('.js'));
    const code = js.map((f) => readFileSync(join(outDir, 'assets', f), 'utf8')).join('\n');
    // The workload's `@jit forward(x) {` is lowered (kiln's own messages quote
    // `@jit forward(x) { ... }` as an example, hence the look-ahead).
    expect(code).not.toMatch(/@jit\s*forward\s*\(\s*\w+\s*\)\s*\{(?!\s*\.\.\.)/);
    expect(code).not.toContain(ROOT);
    expect(code).toContain('test/browser/app/workload.ts:');
    expect(code).not.toContain('acorn');
    const libDir = mkdtempSync(join(tmpdir(), 'kiln-lib-'));
    try {
      const config = appConfig(APP);
      await build({
        ...config,
        build: { ...config.build, outDir: libDir, lib: { entry: `${APP}/workload.ts`, formats: ['es'], fileName: 'workload' } },
      });
      const m = (await import(/* @vite-ignore */ join(libDir, 'workload.js'))) as typeof import('./app/workload.js');
      expectBitwise(await m.runWorkload('cpu'), node);
    } finally {
      rmSync(libDir, { recursive: true, force: true });
    }
  }, 120_000);
});
