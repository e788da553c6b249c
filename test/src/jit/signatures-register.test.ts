/**
 * Signatures under the Node hook (kiln/register), as an application runs: a closure counter
 * the function increments, a closure number read in a condition, and a `@jit` method of a
 * plain class reading its fields. The program runs in a child process
 * (fixtures/signatures-child.ts) and compares every result with eager execution itself.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CHILD = fileURLToPath(new URL('./fixtures/signatures-child.ts', import.meta.url));

interface Report {
  counter: { runs: number; stats: Record<string, number>; warnings: string[] };
  closure: { stats: Record<string, number>; warnings: string[] };
  plainClass: { warnings: string[] };
  mismatches: string[];
}

describe('signatures under node --import kiln/register', () => {
  let report: Report | undefined;
  const result = (): Report => {
    if (report === undefined) {
      const env: Record<string, string | undefined> = { ...process.env };
      delete env.KILN_LOG;
      delete env.KILN_DISABLE_JIT;
      delete env.NODE_OPTIONS;
      const r = spawnSync(process.execPath, ['--import', 'tsx', '--import', ROOT + 'src/register.ts', CHILD], {
        cwd: ROOT, env, encoding: 'utf8', timeout: 120_000,
      });
      if (r.status !== 0) throw new Error(`child exited with ${r.status}:\n${r.stderr}`);
      report = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Report;
    }
    return report;
  };

  it('every jit result equals eager, bit for bit', { timeout: 120_000 }, () => {
    expect(result().mismatches).toEqual([]);
  });

  it('a closure counter the function increments: 100 calls trace at most 9 times and warn once, naming it', { timeout: 120_000 }, () => {
    const { runs, stats, warnings } = result().counter;
    expect(runs).toBe(100);
    expect(stats.traces).toBeLessThanOrEqual(9);
    expect(stats.untraced).toBeGreaterThan(90);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('closure variable runs changed');
    expect(warnings[0]).toMatch(/called at \S*signatures-child\.ts:\d+:\d+/);
  });

  it('a closure number compared in a condition is fed in and guarded: both branches replay', { timeout: 120_000 }, () => {
    const { stats, warnings } = result().closure;
    expect(warnings).toEqual([]);
    expect(stats.variants).toBe(2);
    expect(stats.replays).toBeGreaterThanOrEqual(5);
  });

  it('a @jit method of a plain class sees its boolean, number and tensor fields change', { timeout: 120_000 }, () => {
    expect(result().plainClass.warnings).toEqual([]);
  });
});
