/**
 * The web demo (examples/web), built with its own Vite config and served as `vite preview`
 * serves it: in headless Chromium it trains the digits MLP to at least 95% held-out
 * accuracy, shows what jit compiled, and leaves a screenshot in test-results/browser/.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { build, preview } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../examples/web/vite-setup.js';
import { browserAvailable, launchChromium } from './chromium.js';

const DEMO = `${ROOT}examples/web`;
const SCREENSHOTS = `${ROOT}test-results/browser`;

describe.skipIf(!browserAvailable)('the web demo in headless Chromium', () => {
  let browser: Browser;
  let outDir: string;

  beforeAll(async () => {
    outDir = mkdtempSync(join(tmpdir(), 'kiln-demo-'));
    const [launched] = await Promise.all([
      launchChromium(),
      build({ root: DEMO, configFile: `${DEMO}/vite.config.ts`, logLevel: 'warn', build: { outDir, emptyOutDir: true } }),
    ]);
    browser = launched;
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    if (outDir) rmSync(outDir, { recursive: true, force: true });
  });

  it('trains the digits to at least 95% in the page and shows the compiled step', async () => {
    const server = await preview({ root: DEMO, configFile: `${DEMO}/vite.config.ts`, logLevel: 'warn', build: { outDir }, preview: { port: 0, host: '127.0.0.1' } });
    const page = await browser.newPage({ viewport: { width: 1000, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    try {
      await page.goto(`${server.resolvedUrls!.local[0]!}?epochs=6&autostart`);
      // Functions given as text run in the page (this file is typed for Node, without the DOM).
      await page.waitForFunction("document.body.dataset.trained === 'true' || document.getElementById('status').textContent.startsWith('error')", null, { timeout: 100_000 });
      mkdirSync(SCREENSHOTS, { recursive: true });
      await page.screenshot({ path: join(SCREENSHOTS, 'web-demo.png'), fullPage: true });
      expect(await page.textContent('#status')).toMatch(/^CPU: epoch 6\/6, .* done$/);
      const accuracy = Number(await page.getAttribute('#accuracy', 'data-value'));
      expect(accuracy).toBeGreaterThanOrEqual(0.95);
      expect(await page.textContent('#compiled')).toMatch(/^jit: 1 compiled variant\(s\), \d+ kernels per step; \d+ of \d+ steps replayed$/);
      expect(await page.textContent('#explain')).toContain('jit(');
      expect(await page.textContent('#prediction')).toMatch(/^\d \(\d+%\)$/);
      expect(await page.evaluate('crossOriginIsolated')).toBe(true);
      // The device switch offers WebGPU where the page has an adapter (lavapipe in CI).
      const devices = await page.$$eval('#device option', (options) => options.map((o) => (o as unknown as { value: string }).value));
      expect(devices).toEqual(process.env.KILN_REQUIRE_WEBGPU === '1' ? ['cpu', 'webgpu'] : expect.arrayContaining(['cpu']));
      expect(errors).toEqual([]);
    } finally {
      await page.close();
      await new Promise<void>((done) => server.httpServer.close(() => done()));
    }
  }, 150_000);
});
