/**
 * The MNIST CNN's forward pass as an ONNX model, for ONNX Runtime (servers, GPUs, Triton,
 * the web), with its weights inside the file or beside it as safetensors.
 *
 *   npx tsx examples/export-onnx.ts [--out mnist-cnn.onnx]
 *
 * The CNN of examples/mnist-cnn.ts (freshly initialized here; export a trained one the same
 * way) is written to a file, then run in ONNX Runtime when onnxruntime-node is installed (a
 * dev dependency of kiln) and compared with kiln on a batch of random images.
 */
import { writeFileSync } from 'node:fs';
import { noGrad, nn, randn, type Tensor } from '../src/index.js';
import { exportOnnx } from '../src/onnx.js';
import { isMain } from './common.js';
import { makeCnn } from './mnist-cnn.js';

/** The ONNX bytes of `model`'s forward pass for [batch, 1, 28, 28] images, weights as initializers. */
export function exportCnn(model: nn.Module & { forward(x: Tensor): Tensor }, batch = 8): Uint8Array {
  const example = randn([batch, 1, 28, 28]);
  return exportOnnx((x: Tensor) => model.forward(x), example, {
    module: model,
    inputNames: ['images'],
    outputNames: ['logits'],
  });
}

function option(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  const out = option('out') ?? 'mnist-cnn.onnx';
  const model = makeCnn([8, 16]);
  model.eval();
  const bytes = noGrad(() => exportCnn(model));
  writeFileSync(out, bytes);
  console.log(
    `wrote ${out}: ${bytes.length} bytes (opset 18, weights as initializers named ${model
      .namedParameters()
      .map(([n]) => n)
      .join(', ')})`,
  );

  const ort = await import('onnxruntime-node').catch(() => undefined);
  if (ort === undefined) return console.log('onnxruntime-node is not installed: skipping the check in ONNX Runtime');
  const x = randn([8, 1, 28, 28]);
  const session = await ort.InferenceSession.create(bytes);
  const result = await session.run({ images: new ort.Tensor('float32', x.data() as Float32Array, x.shape) });
  const got = result['logits']!.data as Float32Array,
    want = model.forward(x).data<'float32'>();
  const worst = want.reduce((m, w, i) => Math.max(m, Math.abs(got[i]! - w) / Math.max(1, Math.abs(w))), 0);
  console.log(`ONNX Runtime vs kiln on 8 images: max relative difference ${worst.toExponential(2)}`);
}

if (isMain(import.meta.url)) void main();
