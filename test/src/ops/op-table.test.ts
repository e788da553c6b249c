/**
 * Drives the op table on the CPU: every row eagerly in float64 against its reference (with
 * contiguous and with strided inputs), under jit against eager bit for bit (tracing calls
 * and replays, both layouts, float32 and float16 inputs), and by finite differences in
 * float64 where differentiable.
 * (test/src/backends/op-table.test.ts runs it on every other backend.)
 * On the Wasm engine, freed blocks are filled with junk: eager outputs and compiled steps take
 * their blocks unzeroed, so a kernel that read its output before writing all of it fails here.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpuEngine } from '../../../runtime/wasm/engine.js';
import { wasmHeap } from '../../../runtime/wasm/memory.js';
import { gradcheck, jit, type Tensor } from '../../../src/index.js';
import { expectAllClose } from '../../helpers.js';
import { roundToHalf } from '../../../runtime/half.js';
import { withSeed } from '../random-inputs.js';
import { expectSameTensor } from '../jit/compare.js';
import { opTable } from './op-table.js';
import { outputs, seedStream, toTensor, type Layout } from './table/record.js';

const LAYOUTS: readonly Layout[] = ['contiguous', 'strided'];

beforeAll(() => {
  if (cpuEngine() === 'wasm') wasmHeap().junkFreed = true;
});
afterAll(() => {
  if (cpuEngine() === 'wasm') wasmHeap().junkFreed = false;
});

describe.each(opTable)('$name', (op) => {
  it.each(LAYOUTS)('eager float64 matches the reference (%s inputs)', (layout) => {
    withSeed(`${op.name}/reference`, (next) => {
      const inputs = op.inputs(next);
      seedStream(op);
      const got = outputs(op, inputs.map((x) => toTensor(x, 'float64', 'cpu', layout)));
      const want = op.ref(...inputs.map((x) => x.ref));
      const { rtol, atol } = op.refTol ?? { rtol: 1e-9, atol: 1e-10 };
      expect(got.length).toBe(want.length);
      got.forEach((g, i) => {
        try {
          expectAllClose(g, want[i]!.values, { shape: want[i]!.shape, rtol, atol });
        } catch (e) {
          if (e instanceof Error) e.message = `output ${i}: ${e.message}`;
          throw e;
        }
      });
    });
  });

  it('jit equals eager bit for bit on the cpu, on tracing calls and on replays', () => {
    withSeed(`${op.name}/jit`, (next) => {
      const f = jit((...xs: Tensor[]) => outputs(op, xs));
      // Per layout (a signature of its own): the tracing call, the confirming one, a replay.
      for (const [call, layout] of LAYOUTS.flatMap((l) => [l, l, l]).entries()) {
        const xs = op.inputs(next).map((x) => toTensor(x, 'float32', 'cpu', layout));
        seedStream(op);
        const eager = outputs(op, xs);
        seedStream(op);
        const compiled = f(...xs);
        expect(compiled.length, `call ${call}: outputs`).toBe(eager.length);
        eager.forEach((e, i) => expectSameTensor(compiled[i], e, `call ${call} (${layout}), output ${i}`));
      }
      const { replays, fallbacks } = f.stats;
      if (!op.readsValues) expect([replays, fallbacks], 'replays and fallbacks').toEqual([LAYOUTS.length, 0]);
    });
  });

  it('jit equals eager bit for bit on float16 inputs', () => {
    withSeed(`${op.name}/jit-float16`, (next) => {
      const f = jit((...xs: Tensor[]) => outputs(op, xs));
      for (const [call, layout] of LAYOUTS.flatMap((l) => [l, l, l]).entries()) {
        const xs = op.inputs(next).map((x) => toTensor(x, 'float16', 'cpu', layout));
        seedStream(op);
        const eager = outputs(op, xs);
        seedStream(op);
        const compiled = f(...xs);
        eager.forEach((e, i) => expectSameTensor(compiled[i], e, `call ${call} (${layout}), output ${i}`));
      }
    });
  });

  if (op.grad) {
    it('gradients match central differences in float64', () => {
      withSeed(`${op.name}/grad`, (next) => {
        const inputs = op.inputs(next);
        const fixed = inputs.map((x) => toTensor(x, 'float64'));
        const floatAt = inputs.flatMap((x, i) => (x.kind === 'float' ? [i] : []));
        // One scalar from every float output, so a single check covers them all.
        const f = (...floatsIn: Tensor[]) => {
          const xs = fixed.slice();
          floatAt.forEach((i, j) => (xs[i] = floatsIn[j]!));
          seedStream(op);
          const floatsOut = outputs(op, xs).filter((o) => o.dtype === 'float64');
          return floatsOut.map((o, i) => o.mul(i + 1).sum()).reduce((a, b) => a.add(b));
        };
        const result = gradcheck(f, floatAt.map((i) => fixed[i]!), { raise: false, eps: 1e-6, atol: 1e-5 });
        expect(result.ok, result.report).toBe(true);
      });
    });

    it('float16 gradients match the float64 ones (themselves checked by finite differences) within half precision', () => {
      withSeed(`${op.name}/grad-float16`, (next) => {
        const inputs = op.inputs(next).map((x) =>
          (x.kind === 'float' ? { ...x, ref: { ...x.ref, values: x.ref.values.map(roundToHalf) } } : x));
        const gradsIn = (float: 'float16' | 'float64'): number[][] => {
          const xs = inputs.map((x) => toTensor(x, float));
          const floats = xs.filter((x) => x.dtype === float);
          floats.forEach((x) => x.requiresGrad_());
          seedStream(op);
          const outs = outputs(op, xs).filter((o) => o.dtype === float && o.requiresGrad);
          if (outs.length === 0) return [];
          outs.map((o, i) => o.to('float64').mul(i + 1).sum()).reduce((a, b) => a.add(b)).backward();
          return floats.map((x) => (x.grad === null ? [] : Array.from(x.grad.to('float64').data())));
        };
        // The float64 run starts from the half-rounded inputs, so only the arithmetic differs.
        const wide = gradsIn('float64'), narrow = gradsIn('float16');
        const scale = Math.max(1, ...wide.flat().filter(Number.isFinite).map(Math.abs));
        narrow.forEach((g, i) => g.forEach((v, j) => {
          const want = wide[i]![j]!;
          if (!Number.isFinite(want)) return;
          expect(Math.abs(v - want), `input ${i}, element ${j}: ${v} vs ${want}`).toBeLessThanOrEqual(2 ** -5 * scale);
        }));
      });
    });
  }
});
