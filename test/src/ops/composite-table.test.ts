/**
 * Drives the composite-op table: every record eagerly against its float64 reference, under
 * jit against eager bit for bit (trace call, then replays), and by finite differences in
 * float64 where differentiable. (test/src/webgpu/composite-table.test.ts runs it on WebGPU.)
 */
import { describe, expect, it } from 'vitest';
import { gradcheck, jit, type Tensor } from '../../../src/index.js';
import { expectAllClose } from '../../helpers.js';
import { withSeed } from '../random-inputs.js';
import { expectSameTensor } from '../jit/compare.js';
import { compositeOps, outputs, toTensor } from './composite-table.js';

describe.each(compositeOps)('$name', (op) => {
  it('eager float64 matches the reference', () => {
    withSeed(`${op.name}/reference`, (next) => {
      const inputs = op.inputs(next);
      const got = outputs(op, inputs.map((x) => toTensor(x, 'float64')));
      const want = op.ref(...inputs.map((x) => x.ref));
      expect(got.length).toBe(want.length);
      got.forEach((g, i) => {
        try {
          expectAllClose(g, want[i]!.values, { shape: want[i]!.shape, rtol: 1e-9, atol: 1e-10 });
        } catch (e) {
          if (e instanceof Error) e.message = `output ${i}: ${e.message}`;
          throw e;
        }
      });
    });
  });

  it('jit equals eager bit for bit on the cpu, on the tracing call and on replays', () => {
    withSeed(`${op.name}/jit`, (next) => {
      const f = jit((...xs: Tensor[]) => outputs(op, xs));
      for (let call = 0; call < 3; call++) {
        const xs = op.inputs(next).map((x) => toTensor(x, 'float32'));
        const eager = outputs(op, xs);
        const compiled = f(...xs);
        eager.forEach((e, i) => expectSameTensor(compiled[i], e, `call ${call}, output ${i}`));
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
          return outputs(op, xs).filter((o) => o.dtype === 'float64').map((o, i) => o.mul(i + 1).sum()).reduce((a, b) => a.add(b));
        };
        const result = gradcheck(f, floatAt.map((i) => fixed[i]!), { raise: false, eps: 1e-6, atol: 1e-5 });
        expect(result.ok, result.report).toBe(true);
      });
    });
  }
});
