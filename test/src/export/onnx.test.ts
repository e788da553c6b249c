/**
 * ONNX export checked on a real engine: each model is exported from example inputs, then
 * run in ONNX Runtime (onnxruntime-node, CPU) on fresh inputs and compared with kiln.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { Tensor, jit, nn, tensor } from '../../../src/node.js';
import { OnnxExportError, exportOnnx } from '../../../src/onnx.js';
import { rng } from '../../helpers.js';
import { seedFor } from '../random-inputs.js';
import { testModels, type TestModel } from './models.js';

const ORT_TYPE = { float16: 'float16', float32: 'float32', float64: 'float64', int32: 'int32', uint8: 'uint8', bool: 'bool' } as const;

function feed(t: Tensor): ort.Tensor {
  return new ort.Tensor(ORT_TYPE[t.dtype], t.data(), t.shape);
}

/** Runs `model` in ONNX Runtime on `inputs`; outputs in graph order. */
async function runOrt(model: Uint8Array, inputs: Tensor[]): Promise<ort.Tensor[]> {
  const session = await ort.InferenceSession.create(model, { logSeverityLevel: 3 });
  const feeds = Object.fromEntries(session.inputNames.map((name, i) => [name, feed(inputs[i]!)]));
  const out = await session.run(feeds);
  return session.outputNames.map((name) => out[name]!);
}

/** max |a - b| / max(1, |b|) over all elements: float32 rounding differs between engines. */
function relativeError(got: ArrayLike<number | bigint>, want: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < want.length; i++)
    worst = Math.max(worst, Math.abs(Number(got[i]) - want[i]!) / Math.max(1, Math.abs(want[i]!)));
  return worst;
}

const asList = (r: Tensor | Tensor[]): Tensor[] => (Array.isArray(r) ? r : [r]);

async function checkModel(m: TestModel): Promise<void> {
  const next = rng(seedFor(`onnx ${m.name}`));
  const model = exportOnnx(m.fn, ...(m.example?.() ?? m.inputs(next)), { module: m.module });
  for (let round = 0; round < 4; round++) {
    const inputs = m.inputs(next);
    const want = asList(m.fn(...inputs));
    const got = await runOrt(model, inputs);
    expect(got.length, m.name).toBe(want.length);
    got.forEach((g, k) => {
      expect(g.dims.map(Number), `${m.name} output ${k}`).toEqual(want[k]!.shape);
      expect(
        relativeError(g.data as ArrayLike<number>, want[k]!.data()),
        `${m.name} output ${k}, round ${round}`,
      ).toBeLessThanOrEqual(1e-5);
    });
  }
}

describe('exportOnnx on ONNX Runtime', { timeout: 60_000 }, () => {
  for (const m of testModels()) {
    it(`${m.name}: ONNX Runtime matches kiln on fresh inputs`, async () => {
      await checkModel(m);
    }, 60_000);
  }

  it('erfc, which ONNX lacks, runs as 1 - Erf', async () => {
    const inputs = (next: () => number) => [tensor(Float32Array.from({ length: 64 }, () => next() * 8 - 4), { shape: [64] })];
    await checkModel({ name: 'erfc', fn: (x) => x!.erfc(), inputs });
  });

  it('float16 inputs, constants and outputs are FLOAT16 tensors with the same bits', async () => {
    const bias = tensor([0.1, -2, 65504], { dtype: 'float16' });
    const f = (x: Tensor) => x.mul(x).add(bias).neg();
    const x = tensor([1.5, 3, -0.25], { dtype: 'float16' });
    const [got] = await runOrt(exportOnnx(f, x), [x]);
    expect(got!.type).toBe('float16');
    expect(Array.from(got!.data as Uint16Array)).toEqual(Array.from(f(x).data()));
  });

  it('captured parameters are initializers named after the module, or inputs to feed', async () => {
    const [mlp] = testModels();
    const x = tensor(new Float32Array(8 * 16).fill(0.5), { shape: [8, 16] });
    const inside = await ort.InferenceSession.create(exportOnnx(mlp!.fn, x, { module: mlp!.module }));
    expect(inside.inputNames).toEqual(['input_0']);
    const apart = await ort.InferenceSession.create(
      exportOnnx(mlp!.fn, x, { module: mlp!.module, weights: 'inputs', inputNames: ['x'], outputNames: ['logits'] }),
    );
    expect(apart.inputNames).toEqual(['x', '0.weight', '0.bias', '2.weight', '2.bias']);
    expect(apart.outputNames).toEqual(['logits']);
    const feeds: Record<string, ort.Tensor> = { x: feed(x) };
    for (const [name, p] of mlp!.module!.namedParameters()) feeds[name] = feed(p);
    const out = await apart.run(feeds);
    expect(relativeError(out['logits']!.data as Float32Array, (mlp!.fn(x) as Tensor).data())).toBeLessThanOrEqual(1e-5);
  });

  it('the lifted loop runs as an ONNX Loop whose trip count is data', async () => {
    const loop = testModels().find((m) => m.name === 'seed while loop')!;
    const model = exportOnnx(loop.fn, tensor([0], { dtype: 'int32' }), tensor([10], { dtype: 'int32' }));
    for (const [a, b] of [
      [0, 10],
      [3, 5],
      [7, 2],
      [0, 100],
    ] as const) {
      const got = await runOrt(model, [tensor([a], { dtype: 'int32' }), tensor([b], { dtype: 'int32' })]);
      const want = asList(loop.fn(tensor([a], { dtype: 'int32' }), tensor([b], { dtype: 'int32' })));
      expect(
        got.map((g) => Array.from(g.data as Int32Array)),
        `${a}, ${b}`,
      ).toEqual(want.map((w) => Array.from(w.data())));
    }
  });

  it('a lifted select exports as Where: either branch on fresh inputs', async () => {
    // Rewritten at run time: an `if` that only assigns computed values becomes a select.
    const pick = jit(
      function pick(x: Tensor) {
        let y = x.mul(2);
        if (x.sum() > y.sum()) {
          y = x.neg();
        } else {
          y = x.add(1);
        }
        return y;
      },
      { rewrite: true },
    );
    const model = exportOnnx(pick, tensor([1, 2, 3]));
    for (const v of [
      [1, 2, 3],
      [-1, -2, -3],
      [5, -9, 1],
    ]) {
      const [got] = await runOrt(model, [tensor(v)]);
      expect(Array.from(got!.data as Float32Array), String(v)).toEqual(Array.from(pick(tensor(v)).data()));
    }
  });

  it('refuses what ONNX cannot express, naming the primitive', () => {
    const drop = new nn.Dropout(0.5);
    const x = tensor(new Float32Array(12).fill(1), { shape: [3, 4] });
    expect(() => exportOnnx((t: Tensor) => drop.forward(t), x)).toThrow(OnnxExportError);
    expect(() => exportOnnx((t: Tensor) => drop.forward(t), x)).toThrow(/random at %\d+ .*no ONNX equivalent/);
    expect(() => exportOnnx((t: Tensor) => t.mul_(2), x)).toThrow(/write at %\d+ .*in place/);
    expect(() => exportOnnx((t: Tensor) => (t.sum().item() > 0 ? t : t.neg()), x)).toThrow(
      /JS reads a tensor value \(item\(\)/,
    );
  });
});

describe('the exported CNN file', () => {
  it('loads and runs in a fresh ONNX Runtime process with no warnings', () => {
    const cnn = testModels().find((m) => m.name === 'MNIST CNN')!;
    const dir = mkdtempSync(join(tmpdir(), 'kiln-onnx-'));
    const file = join(dir, 'cnn.onnx');
    writeFileSync(file, exportOnnx(cnn.fn, ...cnn.inputs(rng(1)), { module: cnn.module }));
    const run = spawnSync(
      process.execPath,
      [fileURLToPath(new URL('./fixtures/ort-load.mjs', import.meta.url)), file],
      { encoding: 'utf8' },
    );
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe('4x10');
    expect(run.status).toBe(0);
  }, 60_000);
});
