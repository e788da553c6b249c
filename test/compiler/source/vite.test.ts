/**
 * kiln/vite: the plugin object, and the programs (seed loop, Newton's method, a training
 * loop with early stopping) run through it. Each program is stripped of its types the way
 * Vite does (oxc), rewritten by the plugin's transform with the combined map Vite would
 * give it, written to a temporary .mjs next to the original and imported. The same
 * programs imported as written show what the rewrite changes. Last, the plugin in a real
 * Vite server, where Vite itself orders it after TypeScript.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, transformWithOxc } from 'vite';
import { describe, expect, it } from 'vitest';
import type { RawSourceMap } from '../../../compiler/source/mappings.js';
import { kiln } from '../../../src/vite.js';
import { PROGRAMS, ROOT, checkMap, siteString } from './helpers.js';

interface Context {
  warnings: string[];
  warn(message: string): void;
  getCombinedSourcemap(): RawSourceMap;
}

function context(map?: RawSourceMap): Context {
  const warnings: string[] = [];
  return {
    warnings,
    warn: (m) => void warnings.push(m),
    getCombinedSourcemap: () => {
      if (!map) throw new Error('no map');
      return map;
    },
  };
}

/** A guard site as the plugin names it: relative to the project root (the working directory here). */
function relativeSite(file: string, marker: string, text: string): string {
  return siteString(file, marker, text).slice(ROOT.length);
}

const CODE = "import { jit } from 'kiln';\nexport const f = jit((x) => (x > 0 ? x : x.neg()));\n";

describe('the plugin object', () => {
  it('is named kiln and runs after the TypeScript transform', () => {
    const p = kiln();
    expect(p.name).toBe('kiln');
    expect(p.enforce).toBe('post');
  });

  it('rewrites script modules outside node_modules, and names files relative to the root, without their query', () => {
    const p = kiln({ root: '/app' });
    for (const id of ['/app/a.ts', '/app/a.js', '/app/a.mjs', '/app/a.tsx', '/app/a.mts', '/app/a.ts?v=3']) {
      const out = p.transform.call(context(), CODE, id);
      expect(out, id).not.toBeNull();
      expect(out!.code).toContain('"a.' + id.split('.')[1]!.replace(/\?.*/, '') + ':2:30"');
      expect(out!.code).not.toContain('/app/');
    }
    for (const id of ['/app/node_modules/lib/a.js', '/app/a.css', '/app/a.vue', '\0virtual:a.js', '/app/a.json']) {
      expect(p.transform.call(context(), CODE, id), id).toBeNull();
    }
    expect(p.transform.call(context(), 'export const a = 1;', '/app/a.js')).toBeNull();
  });

  it('sends the cross-origin isolation headers in dev and preview only when asked', () => {
    expect(kiln().config()).toBeNull();
    const headers = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };
    expect(kiln({ crossOriginIsolation: true }).config()).toEqual({ server: { headers }, preview: { headers } });
  });

  it('takes an include filter', () => {
    const p = kiln({ include: (id) => id.endsWith('.special.js') });
    expect(p.transform.call(context(), CODE, '/app/a.js')).toBeNull();
    expect(p.transform.call(context(), CODE, '/app/a.special.js')).not.toBeNull();
  });

  it('reports a parse error through the context and leaves the module as it is', () => {
    const ctx = context();
    expect(kiln().transform.call(ctx, "import { jit } from 'kiln';\njit((x) => {", '/app/a.js')).toBeNull();
    expect(ctx.warnings).toHaveLength(1);
    expect(ctx.warnings[0]).toMatch(/could not parse \/app\/a\.js/);
  });

  it('maps its output back to its input, and sites through the combined map to the original', async () => {
    const file = PROGRAMS + 'seed.ts';
    const ts = await transformWithOxc(readFileSync(file, 'utf8'), file, { sourcemap: true });
    const out = kiln().transform.call(context(ts.map as RawSourceMap), ts.code, file)!;
    checkMap(out.code, ts.code, (out.map as RawSourceMap).mappings);
    expect(out.code).toContain(JSON.stringify(relativeSite(file, 'seed while', 'first < second')));
  });
});

/** A program rewritten as Vite would (oxc, then the plugin), imported from a temporary .mjs. */
async function throughPlugin<T>(name: string): Promise<T> {
  const file = PROGRAMS + name + '.ts';
  const ts = await transformWithOxc(readFileSync(file, 'utf8'), file, { sourcemap: true });
  const ctx = context(ts.map as RawSourceMap);
  const out = kiln().transform.call(ctx, ts.code, file);
  expect(ctx.warnings).toEqual([]);
  expect(out, `${name} is rewritten`).not.toBeNull();
  const temp = `${PROGRAMS}${name}.vite-${process.pid}.mjs`;
  writeFileSync(temp, out!.code);
  try {
    return (await import(/* @vite-ignore */ temp)) as T;
  } finally {
    rmSync(temp, { force: true });
  }
}

interface Seed { run(): { values: number[][]; stats: Record<string, number>; sites: string[]; loops: string[] } }
interface Newton { INPUTS: number[][]; run(): { roots: number[][]; steps: number[]; stats: Record<string, number>; sites: string[]; negative: string } }
interface Training { TRIALS: [number, number, number][]; run(): { compiled: number[][][]; eager: number[][][]; stats: Record<string, number>; sites: string[] } }

describe('programs through the plugin', () => {
  it('the seed loop gives 20 and 20, and one lifted variant replays every trip count', async () => {
    const m = await throughPlugin<Seed>('seed');
    const r = m.run();
    expect(r.values).toEqual([[20, 20], [20, 20], [21, 21], [7, 7], [20, 20]]);
    // (3, 5) takes two iterations where (0, 10) takes ten: the lifted loop replays both.
    expect(r.stats).toEqual({ calls: 5, traces: 2, replays: 3, fallbacks: 0, variants: 1, recompiles: 0, untraced: 0 });
    expect(r.sites).toEqual([]);
    expect(r.loops[0]).toMatch(`loop at ${relativeSite(PROGRAMS + 'seed.ts', 'seed while', 'first < second')}: lifted`);
    // As written, each comparison reads both values: every new pair falls back.
    const plain = ((await import('./programs/seed.js')) as Seed).run();
    expect(plain.values).toEqual(r.values);
    expect(plain.stats).toMatchObject({ replays: 1, fallbacks: 2 });
  }, 30_000);

  it("Newton's method stops when the residual is small, and refuses negative input", async () => {
    const m = await throughPlugin<Newton>('newton');
    const r = m.run();
    m.INPUTS.forEach((input, i) => {
      input.forEach((v, j) => expect(Math.abs(r.roots[i]![j]! - Math.sqrt(v))).toBeLessThan(1e-4 * Math.max(1, Math.sqrt(v))));
      expect(r.steps[i]).toBeLessThan(100);
    });
    expect(r.steps).toEqual([4, 4, 5, 4, 9]);
    expect(r.negative).toBe('sqrtNewton: negative input');
    expect(r.stats.replays).toBeGreaterThan(0);
    const file = PROGRAMS + 'newton.ts';
    expect(r.sites).toEqual([relativeSite(file, 'newton if', 'a.min().lt(0)'), relativeSite(file, 'newton while', 'x.mul(x)')]);
    // As written, `a.min().lt(0)` is an object, always true: every call throws.
    const plain = (await import('./programs/newton.js')) as Newton;
    expect(() => plain.run()).toThrow('sqrtNewton: negative input');
  });

  it('a training loop with early stopping trains fresh models under jit exactly as eagerly', async () => {
    const m = await throughPlugin<Training>('training');
    const r = m.run();
    expect(r.compiled).toEqual(r.eager);
    r.compiled.forEach(([loss, epochs], i) => {
      expect(epochs![0], `trial ${i + 1} stops early`).toBeLessThan(200);
      if (m.TRIALS[i]![2] > 0) expect(loss![0]).toBeLessThan(m.TRIALS[i]![2]);
    });
    // With tol 0 the loss cannot get below it: three epochs without improvement stop it.
    expect(r.compiled.at(-1)![1]![0]).toBeGreaterThan(r.compiled[0]![1]![0]!);
    // Fresh models of the same seed take the same path: the compiled loop replays, with
    // the new model's parameters (a reassigned variable, passed through captures).
    expect(r.stats.replays).toBeGreaterThanOrEqual(2);
    const file = PROGRAMS + 'training.ts';
    expect(r.sites).toContain(relativeSite(file, 'training converged', 'loss.lt(tol)'));
    expect(r.sites).toContain(relativeSite(file, 'training improved', 'loss < best'));
  });
});

describe('in a Vite server', () => {
  // Starts a Vite server and transforms through it: seconds on a loaded 2-core CI machine.
  it('Vite runs the plugin after TypeScript, with a map to the original file', async () => {
    const server = await createServer({
      configFile: false,
      root: ROOT,
      plugins: [kiln()],
      logLevel: 'silent',
      appType: 'custom',
      server: { middlewareMode: true, hmr: false, ws: false },
      optimizeDeps: { noDiscovery: true, include: [] },
    });
    try {
      const seed = (await server.ssrLoadModule('/test/compiler/source/programs/seed.ts')) as Seed;
      const r = seed.run();
      expect(r.values[0]).toEqual([20, 20]);
      expect(r.stats).toEqual({ calls: 5, traces: 2, replays: 3, fallbacks: 0, variants: 1, recompiles: 0, untraced: 0 });
      expect(r.loops[0]).toMatch(`loop at ${relativeSite(PROGRAMS + 'seed.ts', 'seed while', 'first < second')}: lifted`);
    } finally {
      await server.close();
    }
  }, 60_000);
});
