/**
 * The computations the browser tests run in Chromium and in Node, on the CPU and on WebGPU:
 * eager ops, a jit'd training step, a lifted `while` loop and a class with a `@jit` method.
 * Built by Vite with the kiln plugin in both places (the page, and Node through Vite's SSR
 * loader), so the conditions are rewritten and the decorator lowered alike.
 */
import { jit, manualSeed, nn, noGrad, optim, tensor, type Tensor } from 'kiln';

/** Everything a run produced, as plain numbers (float32 values are exact as doubles in JSON). */
export interface WorkloadResult {
  eager: Record<string, number[]>;
  losses: number[];
  parameters: number[][];
  trainStats: Record<string, number>;
  loop: number[][];
  loopStats: Record<string, number>;
  decorated: number[][];
}

/** What the page reports (test/browser/app/main.ts). */
export interface PageReport {
  isolated: boolean;
  sharedMemory: boolean;
  /** The engine CPU tensors ran on, and why (cpuEngineInfo()). */
  cpuEngine: { engine: string; reason: string };
  /** Whether WebAssembly relaxed SIMD (fused multiply-add) exists: it picks the CPU matmul kernel. */
  relaxedSimd: boolean;
  cpu: WorkloadResult;
  webgpu: WorkloadResult | { error: string };
}

type Device = 'cpu' | 'webgpu';

async function read(t: Tensor): Promise<number[]> {
  return Array.from(await t.dataAsync(), Number);
}

/** A deterministic input: no random generator, so it is the same wherever it is made. */
function ramp(shape: number[], scale: number, device: Device): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const values = Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.7 + scale) * scale);
  return tensor(values, { shape }).to(device);
}

async function eagerOps(device: Device): Promise<Record<string, number[]>> {
  const a = ramp([4, 6], 1.5, device), b = ramp([6, 3], 0.8, device);
  const out: Record<string, Tensor> = {
    matmul: a.matmul(b),
    softmax: a.softmax(-1),
    gelu: a.gelu(),
    tanhExp: a.tanh().add(a.mul(0.5).exp()),
    sumMean: a.sum(0).add(a.mean(1).reshape([4, 1])),
    transposed: a.t().matmul(a).sqrt(),
  };
  const result: Record<string, number[]> = {};
  for (const [name, t] of Object.entries(out)) result[name] = await read(t);
  return result;
}

function moveModel<M extends nn.Module>(model: M, device: Device): M {
  if (device === 'cpu') return model;
  for (const [, m] of model.namedModules()) {
    for (const [key, value] of Object.entries(m)) {
      if (!nn.isParameter(value)) continue;
      (m as unknown as Record<string, Tensor>)[key] = nn.parameter(value.detach().to(device));
    }
  }
  return model;
}

async function training(device: Device): Promise<Pick<WorkloadResult, 'losses' | 'parameters' | 'trainStats'>> {
  manualSeed(11);
  const model = moveModel(new nn.Sequential(new nn.Linear(6, 12), new nn.ReLU(), new nn.Linear(12, 3)), device);
  const opt = new optim.Adam(model.parameters(), { lr: 0.05 });
  const step = jit((x: Tensor, y: Tensor) => {
    opt.zeroGrad();
    const loss = nn.crossEntropy(model.forward(x), y);
    loss.backward();
    opt.step();
    return loss.detach();
  });
  const losses: number[] = [];
  for (let i = 0; i < 6; i++) {
    const x = ramp([8, 6], 1 + i * 0.25, device);
    const y = tensor(Int32Array.from({ length: 8 }, (_, j) => (i + j) % 3)).to(device);
    losses.push(...(await read(step(x, y))));
  }
  const parameters: number[][] = [];
  for (const p of model.parameters()) parameters.push(await read(p));
  return { losses, parameters, trainStats: { ...step.stats } };
}

/** The README's seed loop: its condition is a tensor, so the loop is lifted into the graph. */
const seedLoop = jit((first: Tensor, second: Tensor) => {
  while (first < second) {
    first = first.add(2);
    second = second.add(1);
  }
  return [first, second];
});

async function lifted(): Promise<Pick<WorkloadResult, 'loop' | 'loopStats'>> {
  const loop: number[][] = [];
  for (const [a, b] of [[0, 10], [3, 5], [1, 22], [7, 7]] as const) {
    const [x, y] = seedLoop(tensor([a]), tensor([b])) as Tensor[];
    loop.push([...(await read(x!)), ...(await read(y!))]);
  }
  return { loop, loopStats: { ...seedLoop.stats } };
}

/** A model whose forward is compiled by the standard method decorator. */
class Scaled extends nn.Module {
  readonly lin = new nn.Linear(6, 4);

  @jit
  forward(x: Tensor): Tensor {
    return this.lin.forward(x).tanh().mul(3);
  }
}

async function decorated(device: Device): Promise<number[][]> {
  manualSeed(5);
  const model = moveModel(new Scaled(), device);
  const out: number[][] = [];
  for (let i = 0; i < 3; i++) out.push(await read(noGrad(() => model.forward(ramp([2, 6], 0.5 + i, device)))));
  return out;
}

/** Runs everything on `device` (the lifted loop runs on the CPU, where its condition is read synchronously). */
export async function runWorkload(device: Device): Promise<WorkloadResult> {
  return {
    eager: await eagerOps(device),
    ...(await training(device)),
    ...(await lifted()),
    decorated: await decorated(device),
  };
}
