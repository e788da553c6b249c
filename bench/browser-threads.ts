/**
 * kiln's WebAssembly matmul in headless Chromium on one thread and on two (module Web
 * Workers sharing the page's memory), in one page with interleaved rounds:
 *
 *   npm run bench:threads-web
 *
 * The page (bench/web/threads) is built by Vite with the kiln plugin and served cross-origin
 * isolated by `vite preview`. Printed: the median time and GFLOP/s of each side and the
 * two-thread speedup per size; saved as bench/results/browser-threads.json.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build, preview } from 'vite';
import { ROOT, appConfig } from '../examples/web/vite-setup.js';
import { launchChromium } from '../test/browser/chromium.js';
import type { BrowserThreadsResult } from './web/threads/main.js';
import { fmtNumber, formatTable, resultsPath, saveJson } from './harness.js';

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

async function main(): Promise<void> {
  const outDir = mkdtempSync(join(tmpdir(), 'kiln-bench-threads-'));
  const app = `${ROOT}bench/web/threads`;
  const config = { ...appConfig(app, { crossOriginIsolation: true }), configFile: false as const };
  const browser = await launchChromium();
  try {
    await build({ ...config, logLevel: 'warn', build: { ...config.build, outDir } });
    const server = await preview({ ...config, build: { outDir }, preview: { port: 0, host: '127.0.0.1' } });
    const page = await browser.newPage();
    try {
      await page.goto(server.resolvedUrls!.local[0]!);
      await page.waitForFunction('globalThis.kilnBench !== undefined', null, { timeout: 300_000 });
      const result = (await page.evaluate('globalThis.kilnBench')) as BrowserThreadsResult | { error: string };
      if ('error' in result) throw new Error(`the page failed: ${result.error}`);
      if (result.threads !== 2) throw new Error(`two threads asked for, the page got ${result.threads}`);
      const rows: string[][] = [];
      const summary: Record<string, { oneMs: number; twoMs: number; speedup: number }> = {};
      for (const [n, { one, two }] of Object.entries(result.sizes)) {
        const gflops = (ms: number) => fmtNumber((2 * Number(n) ** 3) / ms / 1e6);
        const oneMs = median(one), twoMs = median(two);
        summary[n] = { oneMs, twoMs, speedup: oneMs / twoMs };
        rows.push([`matmul ${n}: 1 thread`, fmtNumber(oneMs), gflops(oneMs), '']);
        rows.push([`matmul ${n}: 2 threads`, fmtNumber(twoMs), gflops(twoMs), (oneMs / twoMs).toFixed(2)]);
      }
      const version = browser.version();
      console.log(`Chromium ${version}, ${result.sizes[512]?.one.length ?? 0} interleaved rounds`);
      console.log(formatTable(['workload', 'ms (median)', 'GFLOP/s', 'speedup'], rows));
      console.log(`saved ${saveJson(resultsPath('browser-threads'), { chromium: version, summary, rounds: result })}`);
    } finally {
      await page.close();
      await new Promise<void>((done) => server.httpServer.close(() => done()));
    }
  } finally {
    await browser.close();
    rmSync(outDir, { recursive: true, force: true });
  }
}

await main();
