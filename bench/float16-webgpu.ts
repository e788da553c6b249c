/**
 * float16 against float32 on WebGPU, same shapes, same ops: uploads, readbacks, an
 * elementwise chain, a reduction and a matmul. float16 tensors are 2-byte halves on a device
 * with shader-f16 (moved to and from the host as bits, no conversion), so memory traffic
 * halves while every kernel still computes in f32. Rounds alternate between the dtypes, so
 * both see the same machine load; the table gives float32 time / float16 time.
 * Run: npx tsx bench/float16-webgpu.ts (the output names the adapter).
 */
import * as k from '../src/node.js';
import { measureAsync, mergeRounds, table, type Measurement } from './harness.js';

const N = 1 << 22;
const M = 512;
const ROUNDS = 3;
type Float = 'float16' | 'float32';

/** Waits for everything recorded so far by reading back one element of `t`. */
async function settle(t: k.Tensor): Promise<void> {
  await t.reshape([-1]).narrow(0, 0, 1).dataAsync();
}

function workloads(dtype: Float): Record<string, () => Promise<void>> {
  const host = k.tensor(Float32Array.from({ length: N }, (_, i) => Math.sin(i) * 3), { dtype });
  const a = host.to('webgpu');
  const b = k.tensor(Float32Array.from({ length: N }, (_, i) => Math.cos(i)), { dtype }).to('webgpu');
  const x = k.tensor(Float32Array.from({ length: M * M }, (_, i) => Math.sin(i)), { dtype }).reshape([M, M]).to('webgpu');
  return {
    [`upload ${N} elements`]: async () => {
      const g = host.to('webgpu');
      await settle(g);
      g.dispose();
    },
    [`readback ${N} elements`]: async () => {
      await a.dataAsync();
    },
    [`(a * b + a).relu() on ${N}`]: async () => {
      const y = k.tidy(() => a.mul(b).add(a).relu());
      await settle(y);
      y.dispose();
    },
    [`sum of ${N}`]: async () => {
      const s = a.sum();
      await settle(s);
      s.dispose();
    },
    [`matmul ${M}x${M}`]: async () => {
      const y = x.matmul(x);
      await settle(y);
      y.dispose();
    },
  };
}

async function main(): Promise<void> {
  const { adapter } = await k.webgpu.init();
  if (!k.webgpu.supportsFloat16()) {
    console.log(`no float16 rows: ${adapter} has no shader-f16`);
    k.webgpu.destroy();
    return;
  }
  const resident = { float16: 0, float32: 0 };
  const made = (dtype: Float) => {
    const before = k.memory().webgpu.bytes;
    const w = workloads(dtype);
    resident[dtype] = k.memory().webgpu.bytes - before;
    return w;
  };
  const sides: Record<Float, Record<string, () => Promise<void>>> = { float16: made('float16'), float32: made('float32') };
  const rows = [];
  for (const name of Object.keys(sides.float16)) {
    const rounds: Record<Float, Measurement[]> = { float16: [], float32: [] };
    for (let r = 0; r < ROUNDS; r++) {
      for (const dtype of r % 2 === 0 ? (['float16', 'float32'] as const) : (['float32', 'float16'] as const)) {
        rounds[dtype].push(await measureAsync(`${name} ${dtype}`, sides[dtype][name]!, { warmup: r === 0 ? 2 : 1, runs: 5 }));
      }
    }
    const values = [mergeRounds(rounds.float32).median, mergeRounds(rounds.float16).median];
    rows.push({ workload: name, values, unit: 'ms' });
  }
  console.log(`float16 vs float32 on WebGPU (${adapter}); inputs on the device: float16 ${resident.float16} bytes, ` +
    `float32 ${resident.float32} bytes`);
  table(rows, { columns: ['float32', 'float16'], ratio: { subject: 1, baseline: 0, header: 'f32/f16' } });
  k.webgpu.destroy();
}

await main();
