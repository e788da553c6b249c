/**
 * The worker pool in a fresh process: KILN_THREADS is read, a split product gives the
 * reference bits, and the process exits on its own with the pool idle. The default engine is
 * Wasm; KILN_CPU=js runs the JavaScript kernel (float64 sums) and starts no worker for it.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const child = fileURLToPath(new URL('./fixtures/threads-child.ts', import.meta.url));
const root = fileURLToPath(new URL('../../../', import.meta.url));

function runChild(env: Record<string, string>): { engine: string; threads: number; asked: number; mismatches: number } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', child], {
    cwd: root, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 90_000,
  });
  if (r.status !== 0) throw new Error(`child exited with ${r.status} (signal ${r.signal}):\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as ReturnType<typeof runChild>;
}

describe('worker pool (child processes)', () => {
  it('KILN_THREADS=2 starts a worker on the default (Wasm) engine, keeps the bits, lets the process exit', () => {
    const seen = runChild({ KILN_THREADS: '2', KILN_CPU: '' });
    expect(seen).toEqual({ engine: 'wasm', threads: 2, asked: 2, mismatches: 0 });
  }, 120_000);

  it('KILN_CPU=wasm starts a worker too', () => {
    const seen = runChild({ KILN_THREADS: '2', KILN_CPU: 'wasm' });
    expect(seen).toEqual({ engine: 'wasm', threads: 2, asked: 2, mismatches: 0 });
  }, 120_000);

  it('KILN_CPU=js runs the JavaScript kernel (no gemm) and starts no worker', () => {
    const seen = runChild({ KILN_THREADS: '2', KILN_CPU: 'js' });
    expect(seen).toEqual({ engine: 'js', threads: 1, asked: 2, mismatches: 0 });
  }, 120_000);
});
