/**
 * The web demo (examples/web), built with its own Vite config and served as `vite preview`
 * serves it: in headless Chromium it trains the digits MLP to at least 95% held-out
 * accuracy, shows what jit compiled, and leaves a screenshot in test-results/browser/.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { build, preview } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../examples/web/vite-setup.js';
import { browserAvailable, launchChromium } from './chromium.js';

const DEMO = `${ROOT}examples/web`;
const demoConfig = { root: DEMO, configFile: `${DEMO}/vite.config.ts`, logLevel: 'warn' as const };
const SCREENSHOTS = `${ROOT}test-results/browser`;
const gpuRequired = process.env.KILN_REQUIRE_WEBGPU === '1';

/** An option element, as far as the test reads it. */
interface Option {
  value: string;
}

/** Waits until the demo finished training (or failed); returns its status line. */
async function trained(page: Page): Promise<string> {
  // Functions given as text run in the page (this file is typed for Node, without the DOM).
  const done = "document.body.dataset.trained === 'true' || document.getElementById('status').textContent.startsWith('error')";
  await page.waitForFunction(done, null, { timeout: 100_000 });
  return (await page.textContent('#status')) ?? '';
}

describe.skipIf(!browserAvailable)('the web demo in headless Chromium', () => {
  let browser: Browser;
  let outDir: string;

  beforeAll(async () => {
    outDir = mkdtempSync(join(tmpdir(), 'kiln-demo-'));
    const [launched] = await Promise.all([
      launchChromium(),
      build({ ...demoConfig, build: { outDir, emptyOutDir: true } }),
    ]);
    browser = launched;
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    if (outDir) rmSync(outDir, { recursive: true, force: true });
  });

  it('trains the digits to at least 95% in the page and shows the compiled step', async () => {
    const server = await preview({ ...demoConfig, build: { outDir }, preview: { port: 0, host: '127.0.0.1' } });
    const page = await browser.newPage({ viewport: { width: 1000, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    try {
      await page.goto(`${server.resolvedUrls!.local[0]!}?epochs=6&autostart`);
      const status = await trained(page);
      mkdirSync(SCREENSHOTS, { recursive: true });
      await page.screenshot({ path: join(SCREENSHOTS, 'web-demo.png'), fullPage: true });
      expect(status).toMatch(/^CPU: epoch 6\/6, .* done$/);
      const accuracy = Number(await page.getAttribute('#accuracy', 'data-value'));
      expect(accuracy).toBeGreaterThanOrEqual(0.95);
      expect(await page.textContent('#compiled')).toMatch(/^jit: 1 compiled variant\(s\), \d+ kernels per step; \d+ of \d+ steps replayed$/);
      expect(await page.textContent('#explain')).toContain('jit(');
      // The demo trains on the default CPU engine, and its explanation says so.
      expect(await page.textContent('#explain')).toContain('CPU kernels run on the wasm engine (the default: ');
      expect(await page.textContent('#prediction')).toMatch(/^\d \(\d+%\)$/);
      expect(await page.evaluate('crossOriginIsolated')).toBe(true);
      // The device switch offers WebGPU where the page has an adapter (lavapipe in CI).
      const devices = await page.$$eval('#device option', (options) => options.map((o) => (o as unknown as Option).value));
      expect(devices).toEqual(gpuRequired ? ['cpu', 'webgpu'] : expect.arrayContaining(['cpu']));
      expect(errors).toEqual([]);
    } finally {
      await page.close();
      await new Promise<void>((done) => server.httpServer.close(() => done()));
    }
  }, 150_000);

  // Six epochs take about 40 s on lavapipe (against 5 s on the CPU): one shows that the
  // switch works and that the step compiles on WebGPU too.
  it.skipIf(!gpuRequired)('switched to WebGPU, trains an epoch with the step compiled to WGSL', async () => {
    const server = await preview({ ...demoConfig, build: { outDir }, preview: { port: 0, host: '127.0.0.1' } });
    const page = await browser.newPage({ viewport: { width: 1000, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    try {
      await page.goto(`${server.resolvedUrls!.local[0]!}?epochs=1&autostart&device=webgpu`);
      expect(await trained(page)).toMatch(/^WebGPU: epoch 1\/1, .* done$/);
      expect(Number(await page.getAttribute('#accuracy', 'data-value'))).toBeGreaterThan(0.8);
      expect(await page.textContent('#compiled')).toMatch(/^jit: 1 compiled variant\(s\), \d+ kernels per step; /);
      await page.screenshot({ path: join(SCREENSHOTS, 'web-demo-webgpu.png'), fullPage: true });
      expect(errors).toEqual([]);
    } finally {
      await page.close();
      await new Promise<void>((done) => server.httpServer.close(() => done()));
    }
  }, 120_000);
});
