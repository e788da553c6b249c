/**
 * The WebAssembly engine's worker pool in headless Chromium: a page of 512×512 float32
 * matmuls (test/browser/app/threads) on one thread and on two. Built by Vite and served
 * cross-origin isolated, the page starts a module Web Worker and gets the same bits on two
 * threads as on one and as Node; served without isolation, it runs on one thread, says so in
 * one info line, and gets the same bits. From `vite dev` the worker is served as a module;
 * compiled by tsc alone and imported as plain ESM (no bundler), the pool finds its worker
 * script beside its own module, and where that script is missing the page runs on one thread.
 * Installed as a package (tsc's output in an app's node_modules/kiln), an app's Vite build
 * emits the worker from there.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import type { Browser } from 'playwright-core';
import { build, createServer as createViteServer, preview } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ThreadsReport } from './app/threads/product.js';
import { browserAvailable, launchChromium } from './chromium.js';
import { ROOT, appConfig as sharedConfig } from '../../examples/web/vite-setup.js';
import kiln, { CROSS_ORIGIN_ISOLATION_HEADERS, type KilnPluginOptions } from '../../src/vite.js';

const APP = `${ROOT}test/browser/app/threads`;
const LOCAL = { port: 0, host: '127.0.0.1' };

function appConfig(plugin: KilnPluginOptions = {}) {
  return { ...sharedConfig(APP, plugin), configFile: false as const, logLevel: 'warn' as const };
}

/** What a page left, and what its console said. */
interface Visit {
  report: ThreadsReport;
  errors: string[];
  warnings: string[];
  infos: string[];
}

async function visit(browser: Browser, url: string): Promise<Visit> {
  const page = await browser.newPage();
  const errors: string[] = [], warnings: string[] = [], infos: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
    if (m.type() === 'warning') warnings.push(m.text());
    if (m.type() === 'info') infos.push(m.text());
  });
  try {
    await page.goto(url);
    try {
      await page.waitForFunction('globalThis.kilnThreads !== undefined', null, { timeout: 90_000 });
    } catch (e) {
      expect.fail(`the page left no report (${(e as Error).message}); its errors: ${errors.join('; ') || 'none'}`);
    }
    const report = (await page.evaluate('globalThis.kilnThreads')) as ThreadsReport | { error: string };
    if ('error' in report) expect.fail(`the page failed: ${report.error}`);
    return { report, errors, warnings, infos };
  } finally {
    await page.close();
  }
}

/** Node's report, with relaxed SIMD on or off as asked (it picks the gemm, and so the bits). */
const nodeReports = new Map<boolean, ThreadsReport>();
function nodeReport(relaxedSimd: boolean): ThreadsReport {
  let report = nodeReports.get(relaxedSimd);
  if (report === undefined) {
    const flags = relaxedSimd ? ['--experimental-wasm-relaxed-simd'] : [];
    const child = `${ROOT}test/browser/fixtures/threads-node.ts`;
    const r = spawnSync(process.execPath, [...flags, '--import', 'tsx', child], {
      cwd: ROOT, env: { ...process.env, KILN_CPU: '' }, encoding: 'utf8', timeout: 90_000, maxBuffer: 1 << 24,
    });
    if (r.status !== 0) throw new Error(`Node run exited with ${r.status}:\n${r.stderr}`);
    report = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as ThreadsReport;
    expect(report.relaxedSimd, 'Node ran the gemm the page ran').toBe(relaxedSimd);
    nodeReports.set(relaxedSimd, report);
  }
  return report;
}

/** The index of the first float32 that differs between two base64 results, or -1. */
function firstDifference(a: string, b: string): number {
  const x = new Float32Array(Buffer.from(a, 'base64').buffer), y = new Float32Array(Buffer.from(b, 'base64').buffer);
  expect(x.length).toBe(512 * 512);
  expect(y.length).toBe(x.length);
  return x.findIndex((v, i) => !Object.is(v, y[i]));
}

/** Two threads' bits equal one thread's, and Node's. */
function expectSameBits(report: ThreadsReport): void {
  expect(report.engine, 'the default engine ran the product').toBe('wasm');
  expect(firstDifference(report.two, report.one), 'two threads against one').toBe(-1);
  expect(firstDifference(report.one, nodeReport(report.relaxedSimd).one), 'the page against Node').toBe(-1);
}

/** Compiles the page's module and what it imports with tsc alone, into `outDir` (laid out as the repository). */
function compile(outDir: string): void {
  mkdirSync(outDir, { recursive: true });
  const config = join(outDir, 'tsconfig.json');
  writeFileSync(config, JSON.stringify({
    extends: `${ROOT}tsconfig.json`,
    compilerOptions: {
      rootDir: ROOT, outDir, typeRoots: [`${ROOT}node_modules/@types`], declaration: false, sourceMap: false,
    },
    include: [],
    files: [`${APP}/main.ts`],
  }));
  const tsc = spawnSync(process.execPath, [`${ROOT}node_modules/typescript/bin/tsc`, '-p', config], {
    cwd: ROOT, encoding: 'utf8', timeout: 120_000,
  });
  expect(tsc.stdout + tsc.stderr).toBe('');
  rmSync(config);
}

/** The page that imports the compiled module as it is, without a bundler. */
const PLAIN_PAGE = '<!doctype html><link rel="icon" href="data:,">'
  + '<script type="module" src="/test/browser/app/threads/main.js"></script>';

const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.map': 'application/json' };

/** A static server for `dir`, sending the cross-origin isolation headers. */
async function serveIsolated(dir: string): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname));
    const file = join(dir, path === '/' ? 'index.html' : path);
    try {
      const body = readFileSync(file);
      res.writeHead(200, { ...CROSS_ORIGIN_ISOLATION_HEADERS, 'Content-Type': TYPES[extname(file)] ?? 'text/plain' });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the static server has no port');
  return { server, url: `http://127.0.0.1:${address.port}/` };
}

describe.skipIf(!browserAvailable)('the worker pool in headless Chromium', () => {
  let browser: Browser;
  let outDir: string;

  beforeAll(async () => {
    outDir = mkdtempSync(join(tmpdir(), 'kiln-threads-'));
    const [launched] = await Promise.all([
      launchChromium(),
      build({ ...appConfig(), build: { ...appConfig().build, outDir } }),
    ]);
    browser = launched;
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    if (outDir) rmSync(outDir, { recursive: true, force: true });
  });

  it('the build emits the worker program as its own chunk', () => {
    const assets = readdirSync(join(outDir, 'assets'));
    const worker = assets.filter((f) => /^web-worker.*\.js$/.test(f));
    expect(worker).toHaveLength(1);
    const main = assets.filter((f) => f.endsWith('.js') && !worker.includes(f));
    expect(main.some((f) => readFileSync(join(outDir, 'assets', f), 'utf8').includes(worker[0]!))).toBe(true);
  });

  it('cross-origin isolated: a 512×512 matmul on two threads has the bits of one thread and of Node', async () => {
    const server = await preview({ ...appConfig({ crossOriginIsolation: true }), build: { outDir }, preview: LOCAL });
    try {
      const { report, errors, infos } = await visit(browser, server.resolvedUrls!.local[0]!);
      expect(report).toMatchObject({ isolated: true, sharedMemory: true, threads: 2, available: 2, asked: 2 });
      expectSameBits(report);
      expect(errors).toEqual([]);
      expect(infos).toEqual([]);
    } finally {
      await new Promise<void>((done) => server.httpServer.close(() => done()));
    }
  }, 150_000);

  it('not isolated: one thread, one info line saying why, the same bits', async () => {
    const server = await preview({ ...appConfig(), build: { outDir }, preview: LOCAL });
    try {
      const { report, errors, infos } = await visit(browser, server.resolvedUrls!.local[0]!);
      expect(report).toMatchObject({ isolated: false, sharedMemory: false, threads: 1, available: 1, asked: 2 });
      expectSameBits(report);
      expect(errors).toEqual([]);
      expect(infos).toHaveLength(1);
      expect(infos[0]).toMatch(/^\[kiln\] cpu: WebAssembly kernels run on one thread: this page is not cross-origin /);
      expect(infos[0]).toContain('crossOriginIsolation: true');
    } finally {
      await new Promise<void>((done) => server.httpServer.close(() => done()));
    }
  }, 150_000);

  it('from vite dev, cross-origin isolated: the dev server serves the worker, the page uses two threads', async () => {
    const server = { ...LOCAL, hmr: false, fs: { allow: [ROOT] } };
    const dev = await createViteServer({ ...appConfig({ crossOriginIsolation: true }), server });
    try {
      await dev.listen();
      const { report, errors } = await visit(browser, dev.resolvedUrls!.local[0]!);
      expect(report).toMatchObject({ isolated: true, sharedMemory: true, threads: 2, available: 2 });
      expectSameBits(report);
      expect(errors).toEqual([]);
    } finally {
      await dev.close();
    }
  }, 150_000);

  it('as plain ESM from tsc output, the pool finds its worker beside threads.js, and runs without it', async () => {
    const esmDir = mkdtempSync(join(tmpdir(), 'kiln-esm-'));
    try {
      compile(esmDir);
      expect(readdirSync(join(esmDir, 'runtime/wasm'))).toContain('web-worker.js');
      writeFileSync(join(esmDir, 'index.html'), PLAIN_PAGE);
      const { server, url } = await serveIsolated(esmDir);
      try {
        const { report, errors, warnings } = await visit(browser, url);
        expect(report).toMatchObject({ isolated: true, sharedMemory: true, threads: 2, available: 2 });
        expectSameBits(report);
        expect(errors).toEqual([]);
        expect(warnings).toEqual([]);
        // A bundle without the worker script: one warning, one thread, the same bits, no failure.
        rmSync(join(esmDir, 'runtime/wasm/web-worker.js'));
        const missing = await visit(browser, url);
        expect(missing.report).toMatchObject({ isolated: true, sharedMemory: true, threads: 1, available: 1 });
        expectSameBits(missing.report);
        expect(missing.warnings).toEqual([
          '[kiln] cpu: a pool worker failed (its script, web-worker.js, did not load); kernels run on one thread now',
        ]);
        expect(missing.errors.every((e) => e.includes('404'))).toBe(true);
      } finally {
        await new Promise<void>((done) => server.close(() => done()));
      }
    } finally {
      rmSync(esmDir, { recursive: true, force: true });
    }
  }, 180_000);

  it('installed as a package, built by an app\'s Vite: the worker is emitted from node_modules/kiln/dist', async () => {
    const appDir = mkdtempSync(join(tmpdir(), 'kiln-installed-'));
    const pkg = join(appDir, 'node_modules/kiln');
    try {
      compile(join(pkg, 'dist'));
      writeFileSync(join(pkg, 'package.json'), readFileSync(`${ROOT}package.json`));
      writeFileSync(join(appDir, 'index.html'), PLAIN_PAGE.replace('/test/browser/app/threads/main.js', './main.js'));
      // The package entry resolves by its name; the check compiled beside it runs on the same modules.
      writeFileSync(join(appDir, 'main.js'), [
        "import 'kiln';",
        "import { runThreads } from './node_modules/kiln/dist/test/browser/app/threads/product.js';",
        'globalThis.kilnThreads = await runThreads().catch((e) => ({ error: String(e.stack ?? e) }));',
      ].join('\n'));
      const config = {
        root: appDir, configFile: false as const, logLevel: 'warn' as const,
        plugins: [kiln({ crossOriginIsolation: true })], build: { target: 'es2022', outDir: join(appDir, 'dist') },
      };
      await build(config);
      expect(readdirSync(join(appDir, 'dist/assets')).filter((f) => /^web-worker.*\.js$/.test(f))).toHaveLength(1);
      const server = await preview({ ...config, preview: LOCAL });
      try {
        const { report, errors } = await visit(browser, server.resolvedUrls!.local[0]!);
        expect(report).toMatchObject({ isolated: true, sharedMemory: true, threads: 2, available: 2 });
        expectSameBits(report);
        expect(errors).toEqual([]);
      } finally {
        await new Promise<void>((done) => server.httpServer.close(() => done()));
      }
    } finally {
      rmSync(appDir, { recursive: true, force: true });
    }
  }, 180_000);
});
