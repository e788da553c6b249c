/**
 * The seed loop on WebGPU under jit: rewritten, the loop is traced without reading its
 * condition and runs as one WGSL kernel with the loop inside, so every trip count (zero
 * included) replays one variant with one kernel launch per call.
 */
import { jit, tensor, webgpu, type Tensor } from '../../../../src/index.js';

function seedLoop(first: Tensor, second: Tensor): Tensor[] {
  while (first < second) { // site: seed gpu while
    first = first.add(2);
    second = second.add(1);
  }
  return [first, second];
}

/** The compiled loop. */
export const seedGpu = jit(seedLoop);

/** The same loop on plain numbers: the reference. */
function plainLoop(first: number, second: number): number[] {
  while (first < second) {
    first += 2;
    second += 1;
  }
  return [first, second];
}

/** (0, 10) twice (the two traces), then 40 starts from a fixed generator, some of them with no iteration. */
export function starts(): [number, number][] {
  let s = 12345;
  const next = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) % 41;
  const random = Array.from({ length: 38 }, (): [number, number] => [next(), next()]);
  return [[0, 10], [0, 10], ...random, [5, 5], [9, 2]];
}

/** Runs every start on the GPU: results, plain-JS answers, kernel launches of each call, stats and loop notes. */
export async function run(): Promise<{
  values: number[][]; expected: number[][]; launches: number[]; stats: Record<string, number>; loops: string[];
}> {
  await webgpu.init();
  const values: number[][] = [], expected: number[][] = [], launches: number[] = [];
  const gpu = webgpu.eagerGpu();
  for (const [a, b] of starts()) {
    const x = tensor(a, { dtype: 'int32', device: 'webgpu' }), y = tensor(b, { dtype: 'int32', device: 'webgpu' });
    const before = gpu.launches;
    const [p, q] = seedGpu(x, y);
    launches.push(gpu.launches - before);
    values.push([(await p!.dataAsync())[0]!, (await q!.dataAsync())[0]!]);
    expected.push(plainLoop(a, b));
  }
  const [x, y] = [0, 10].map((v) => tensor(v, { dtype: 'int32', device: 'webgpu' }));
  const loops = seedGpu.explain(x!, y!).variants.at(-1)?.controlFlow ?? [];
  return { values, expected, launches, stats: { ...seedGpu.stats }, loops };
}
