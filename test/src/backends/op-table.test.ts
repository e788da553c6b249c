/**
 * The op table on every backend of test/backends.ts but the CPU: each row whose output shape
 * does not depend on values runs on that backend's tensors, eagerly and under jit, with
 * contiguous and strided inputs, and matches the CPU within the backend's float32 tolerance
 * (exactly for integer and bool outputs).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { jit, type Tensor } from '../../../src/index.js';
import { backends, cpu, type TestBackend } from '../../backends.js';
import { withSeed } from '../random-inputs.js';
import { opTable } from '../ops/op-table.js';
import { outputs, seedStream, toTensor, type Layout, type TableRecord } from '../ops/table/record.js';

async function expectNear(got: Tensor, cpuResult: Tensor, device: string, tol: number, what: string): Promise<void> {
  expect(got.device, what).toBe(device);
  expect(got.shape, what).toEqual(cpuResult.shape);
  expect(got.dtype, what).toBe(cpuResult.dtype);
  const values = await got.dataAsync(), want = cpuResult.data();
  for (let i = 0; i < want.length; i++) {
    const g = values[i]!, w = want[i]!;
    const close = Math.abs(g - w) <= tol + tol * Math.abs(w);
    const ok = Number.isNaN(w) ? Number.isNaN(g) : !Number.isFinite(w) ? g === w : close;
    if (!ok) {
      throw new Error(`${what}: element ${i} of [${cpuResult.shape}]: ${device} ${g}, cpu ${w} (tolerance ${tol})`);
    }
  }
}

// The tracing call, the confirming one and a replay, then a new signature: strided inputs.
const LAYOUTS: readonly Layout[] = ['contiguous', 'contiguous', 'contiguous', 'strided'];

const others = backends.filter((b) => b !== cpu);
const ready = new Map<TestBackend, boolean>();
for (const b of others) ready.set(b, await b.acquire(`${b.name} op table`));
afterAll(async () => {
  for (const b of others) if (ready.get(b)) await b.release();
});

describe.each(others)('$name', (backend) => {
  const holds = (op: TableRecord) => (op.needs ?? []).every((d) => backend.dtypes.includes(d));
  const rows = opTable.filter((op) => op.backends !== false && holds(op));
  describe.skipIf(!ready.get(backend)).each(rows)('$name', (op) => {
    it(`${backend.name} matches the cpu, eagerly and under jit`, async () => {
      let cases: { layout: Layout; cpu: Tensor[]; other: Tensor[] }[] = [];
      withSeed(`${op.name}/${backend.name}`, (next) => {
        cases = LAYOUTS.map((layout) => {
          const inputs = op.inputs(next);
          return {
            layout,
            cpu: inputs.map((x) => toTensor(x, 'float32')),
            other: inputs.map((x) => toTensor(x, 'float32', backend.device, layout)),
          };
        });
      });
      const f = jit((...xs: Tensor[]) => outputs(op, xs));
      const tol = op.backendTol ?? backend.tol;
      for (const [call, c] of cases.entries()) {
        seedStream(op);
        const want = outputs(op, c.cpu);
        seedStream(op);
        const eager = outputs(op, c.other);
        seedStream(op);
        const compiled = f(...c.other);
        for (const [i, w] of want.entries()) {
          await expectNear(eager[i]!, w, backend.device, tol, `call ${call} (${c.layout}), eager output ${i}`);
          await expectNear(compiled[i]!, w, backend.device, tol, `call ${call} (${c.layout}), jit output ${i}`);
        }
      }
      if (!op.readsValues) expect([f.stats.replays, f.stats.fallbacks], 'replays and fallbacks').toEqual([1, 0]);
      // Each row compiles a few pipelines; lavapipe on a loaded 2-core machine needs the time.
    }, 120_000);
  });
});
