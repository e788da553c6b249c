/// <reference types="vite/client" />
/**
 * The web demo: the digits MLP trained in the page by one jit-compiled step (forward,
 * backward, Adam update), on the CPU or on WebGPU, with a live loss curve, the held-out
 * accuracy after every epoch, a pad to draw a digit on, and what jit compiled.
 *
 *   npm run demo:web        (or: npx vite examples/web)
 *
 * `?epochs=n` sets the number of epochs, `?device=webgpu` picks WebGPU (where there is an
 * adapter) and `?autostart` trains on load.
 */
import { data, jit, manualSeed, nn, noGrad, optim, stack, tensor, webgpu, type JitFunction, type Tensor } from 'kiln';
import digitsUrl from '../../data/digits.csv.gz?url';
import { drawLoss, padPixels, setupPad } from './canvas.js';

type Device = 'cpu' | 'webgpu';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const status = $('status'), accuracyEl = $('accuracy'), predictionEl = $('prediction');
const deviceSelect = $<HTMLSelectElement>('device'), epochsInput = $<HTMLInputElement>('epochs');
const trainButton = $<HTMLButtonElement>('train');
const params = new URLSearchParams(location.search);
if (params.has('epochs')) epochsInput.value = params.get('epochs')!;

const digits = await data.fetchDigits(new URL(digitsUrl, location.href));
// Pixels are counts 0..16: scaled to [0, 1] as in examples/digits.ts.
const features = digits.features.div(16);
const split = data.trainTestSplit([features, digits.labels], { testFraction: 0.2, seed: 0 });
const { train: [xTrain, yTrain], test: [xTest, yTest] } = split;
status.textContent = `${xTrain.shape[0]} training and ${xTest.shape[0]} test digits`;

if (navigator.gpu !== undefined && (await navigator.gpu.requestAdapter()) !== null) {
  deviceSelect.add(new Option('WebGPU', 'webgpu'));
  if (params.get('device') === 'webgpu') deviceSelect.value = 'webgpu';
}

let model: nn.Sequential | undefined;
let device: Device = 'cpu';

/** Moves a freshly made model's parameters to `target`. */
function place(m: nn.Sequential, target: Device): nn.Sequential {
  if (target === 'cpu') return m;
  for (const [, layer] of m.namedModules()) {
    for (const [key, value] of Object.entries(layer)) {
      if (!nn.isParameter(value)) continue;
      (layer as unknown as Record<string, Tensor>)[key] = nn.parameter(value.detach().to(target));
    }
  }
  return m;
}

async function evaluate(m: nn.Sequential, target: Device): Promise<number> {
  const correct = noGrad(() => m.forward(xTest.to(target)).argmax(1).eq(yTest.to(target)).sum());
  return (await correct.itemAsync()) / xTest.shape[0]!;
}

/** Lets the page paint between batches. */
const frame = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

async function train(): Promise<void> {
  trainButton.disabled = deviceSelect.disabled = true;
  try {
    device = deviceSelect.value as Device;
    if (device === 'webgpu') await webgpu.init();
    const epochs = Math.max(1, Math.min(100, Number(epochsInput.value) || 10));
    manualSeed(0);
    const m = place(new nn.Sequential(new nn.Linear(64, 128), new nn.ReLU(), new nn.Linear(128, 10)), device);
    const opt = new optim.Adam(m.parameters(), { lr: 3e-3 });
    const schedule = new optim.CosineAnnealingLR(opt, epochs);
    const loader = new data.DataLoader([xTrain, yTrain], { batchSize: 32, shuffle: true, seed: 0 });
    const step = jit((xb: Tensor, yb: Tensor) => {
      opt.zeroGrad();
      const loss = nn.crossEntropy(m.forward(xb), yb);
      loss.backward();
      opt.step();
      return loss.detach();
    });
    const losses: number[] = [];
    const started = performance.now();
    // Losses are read five at a time: on WebGPU every read waits for the GPU, so one read
    // per five steps lets the steps in between queue up behind each other.
    let pending: Tensor[] = [];
    const readLosses = async () => {
      if (pending.length === 0) return;
      losses.push(...(await stack(pending).dataAsync()));
      pending = [];
      drawLoss($('loss'), losses);
      await frame();
    };
    for (let epoch = 1; epoch <= epochs; epoch++) {
      m.train();
      for (const [xb, yb] of loader) {
        pending.push(step(xb.to(device), yb.to(device)));
        if (pending.length === 5) await readLosses();
      }
      await readLosses();
      schedule.step();
      m.eval();
      const accuracy = await evaluate(m, device);
      accuracyEl.textContent = `${(accuracy * 100).toFixed(1)}%`;
      accuracyEl.dataset.value = String(accuracy);
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      status.textContent = `${device === 'cpu' ? 'CPU' : 'WebGPU'}: epoch ${epoch}/${epochs}, ${seconds} s`;
      drawLoss($('loss'), losses);
    }
    model = m;
    showCompiled(step, loader);
    m.eval();
    status.textContent += ' · done';
    document.body.dataset.trained = 'true';
    predict();
  } catch (e) {
    status.textContent = `error: ${(e as Error).message}`;
    throw e;
  } finally {
    trainButton.disabled = deviceSelect.disabled = false;
  }
}

/** The compiled step's kernel count and its explanation (signature, guards, kernels). */
type Step = JitFunction<(xb: Tensor, yb: Tensor) => Tensor>;

function showCompiled(step: Step, loader: data.DataLoader<[Tensor, Tensor]>): void {
  const [xb, yb] = loader[Symbol.iterator]().next().value as [Tensor, Tensor];
  // The training step was traced in training mode: the mode is part of its signature.
  model?.train();
  const explanation = step.explain(xb.to(device), yb.to(device));
  const kernels = explanation.variants.map((v) => v.kernelCount ?? 0).reduce((a, b) => a + b, 0);
  const { calls, replays } = step.stats;
  const variants = explanation.variants.length;
  $('compiled').textContent = `jit: ${variants} compiled variant(s), ${kernels} kernels per step; ${replays} of ${calls} steps replayed`;
  $('explain').textContent = explanation.toString();
}

async function predict(): Promise<void> {
  if (model === undefined) return;
  const x = tensor(padPixels($('pad')), { shape: [1, 64] }).div(16).to(device);
  const probabilities = noGrad(() => model!.forward(x).softmax(1));
  const values = await probabilities.dataAsync();
  const best = values.indexOf(Math.max(...values));
  predictionEl.textContent = `${best} (${(values[best]! * 100).toFixed(0)}%)`;
}

setupPad($('pad'), () => void predict());
$('clear').addEventListener('click', () => {
  const pad = $<HTMLCanvasElement>('pad');
  pad.getContext('2d')!.clearRect(0, 0, pad.width, pad.height);
  predictionEl.textContent = '–';
});
trainButton.addEventListener('click', () => void train());
if (params.has('autostart')) void train();
