/**
 * kiln/register: the programs run in a child process under
 * `node --import tsx --import src/register.ts`, so the rewrite sees the JavaScript tsx made
 * (decorators lowered, whitespace squeezed) and must go through tsx's map to report sites
 * and stack frames on the lines of the .ts files.
 */
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PROGRAMS, ROOT, siteOf, siteString } from './helpers.js';

const REGISTER = ROOT + 'src/register.ts';

function runNode(file: string, env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const base: Record<string, string | undefined> = { ...process.env };
  delete base.KILN_LOG;
  delete base.KILN_DISABLE_JIT;
  delete base.NODE_OPTIONS;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--import', REGISTER, file], {
    cwd: ROOT,
    env: { ...base, ...env },
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

interface Report {
  seed: { values: number[][]; stats: Record<string, number>; sites: string[]; loops: string[] };
  newton: { roots: number[][]; steps: number[]; stats: Record<string, number>; sites: string[]; negative: string };
  training: { compiled: number[][][]; eager: number[][][]; stats: Record<string, number>; sites: string[] };
  decorated: { shrunk: number[][]; directions: number[] };
  errors: { frame: string };
}

// The first test starts the child (Node, tsx and kiln compiled afresh, every program run):
// several seconds on a loaded 2-core CI machine. The child's own limit bounds it.
const CHILD_TIMEOUT = 130_000;

describe('node --import tsx --import kiln/register', { timeout: CHILD_TIMEOUT }, () => {
  // One child runs every program; the tests below read its report.
  let report: Report | undefined;
  let stderr = '';
  const result = (): Report => {
    if (report === undefined) {
      const r = runNode(PROGRAMS + 'main.ts', { KILN_LOG: 'guards' });
      if (r.status !== 0) throw new Error(`child exited with ${r.status}:\n${r.stderr}`);
      report = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Report;
      stderr = r.stderr;
    }
    return report;
  };

  it('the seed loop gives 20 and 20, lifted into one variant named by the line of the .ts file', () => {
    const r = result().seed;
    expect(r.values).toEqual([[20, 20], [20, 20], [21, 21], [7, 7], [20, 20]]);
    // Trip counts 10, 10, 10, 2, 10: one variant, confirmed by the first two calls, replayed after.
    expect(r.stats).toEqual({ calls: 5, traces: 2, replays: 3, fallbacks: 0, variants: 1, recompiles: 0, untraced: 0 });
    expect(r.sites).toEqual([]);
    expect(r.loops).toEqual([`loop at ${siteString(PROGRAMS + 'seed.ts', 'seed while', 'first < second')}: lifted into one loop node (2 loop variables, 0 loop-invariant tensors; traced with 10 iterations)`]);
  });

  it("Newton's method converges and refuses negative input", () => {
    const r = result().newton;
    expect(r.steps).toEqual([4, 4, 5, 4, 9]);
    expect(r.roots[2]).toEqual([2, 4, 5]);
    expect(r.negative).toBe('sqrtNewton: negative input');
    const file = PROGRAMS + 'newton.ts';
    expect(r.sites).toEqual([siteString(file, 'newton if', 'a.min().lt(0)'), siteString(file, 'newton while', 'x.mul(x)')]);
  });

  it('the training loop with early stopping matches eager training and replays', () => {
    const r = result().training;
    expect(r.compiled).toEqual(r.eager);
    expect(r.compiled.every(([, epochs]) => epochs![0]! < 200)).toBe(true);
    expect(r.stats.replays).toBeGreaterThanOrEqual(2);
    expect(r.sites).toContain(siteString(PROGRAMS + 'training.ts', 'training improved', 'loss < best'));
  });

  it('methods decorated @jit are rewritten from the lowered decorators tsx emits', () => {
    const r = result().decorated;
    expect(r.shrunk).toEqual([[1, -0.375], [1, -0.375], [0.5, 0.25], [-0.625, 0.015625], [-0.625, 0.015625]]);
    expect(r.directions).toEqual([1, 1, -1, 1]);
    // Guards that failed (new paths) were logged with the sites of the method's conditions.
    const file = PROGRAMS + 'decorated.ts';
    expect(stderr).toContain(`direction: guard a comparison or Number() at ${siteString(file, 'decorated ternary', 'x.sum()')} failed`);
    // The halving loop is lifted: its trip count is data, so no guard of it ever fails.
    expect(stderr).not.toContain('shrink: guard');
    expect(stderr).toContain(`direction: guard a comparison or Number() at ${siteString(file, 'decorated ternary', 'x.sum()')} failed`);
    expect(stderr).not.toContain('[kiln] ');
  });

  it('a thrown error names the original line and column', () => {
    const { line, column } = siteOf(PROGRAMS + 'errors.ts', 'errors throw', 'new RangeError');
    expect(result().errors.frame).toBe(`at check (${PROGRAMS}errors.ts:${line}:${column})`);
  });

  it('a module that does not parse gets one warning, and Node reports the syntax error', () => {
    const file = `${PROGRAMS}broken-${process.pid}.mjs`;
    writeFileSync(file, "import { jit } from '../../../../src/index.js';\nexport const f = jit((x) => { if (x > ) return 1; });\n");
    try {
      const r = runNode(file);
      expect(r.status).not.toBe(0);
      expect(r.stderr).toContain(`[kiln] could not parse ${file}`);
      expect(r.stderr).toContain('SyntaxError');
    } finally {
      rmSync(file, { force: true });
    }
  });
});
