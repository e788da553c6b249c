/**
 * WebGPU jit replays of functions that build constants inside the trace (iota, eye, full,
 * arange, tril/triu masks), some made on the GPU and some on the CPU and then moved, feeding
 * several outputs. Equal constants made on different devices must stay two values: merged
 * into one, the CPU side of the graph read a GPU buffer and returned wrong values from the
 * first replay on; and an iota or a random draw made on the GPU and returned as it is came
 * back on the CPU. Every call is compared with the same program run eagerly on the CPU.
 */
import { afterAll, describe, expect, it } from 'vitest';
import {
  Tensor, arange, eye, flip, full, jit, linspace, manualSeed, ones, rand, tensor, tril, triu, webgpu, type DType,
} from '../../../src/index.js';
import { iota } from '../../../src/ops/creation.js';
import { initEagerForTests } from '../../webgpu.js';
import { expectClose, withSeed } from './webgpu-helpers.js';

const ready = await initEagerForTests('jit constants on webgpu');
afterAll(() => webgpu.destroy());
const onGpu = describe.skipIf(!ready);

type Device = 'cpu' | 'webgpu';

/** How a program makes one constant of shape [rows, cols] on `device`. */
type Maker = (device: Device, rows: number, cols: number, x: Tensor) => Tensor;

/** The constants a program may build inside the trace; each names itself for a failure message. */
function makers(next: () => number): [string, Maker][] {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!;
  const dtype = pick<DType>(['float32', 'int32', 'bool']);
  const numeric = pick<DType>(['float32', 'int32']);
  const diagonal = pick([-1, 0, 1, 2]);
  const value = pick([0, 1, -0.5, 3]);
  const [start, step] = [pick([0, 1, -2]), pick([1, 0.5, -1])];
  const axis = pick([0, 1, -1]);
  return [
    [`iota ${dtype}`, (d, r, c) => iota(r * c, d).reshape([r, c]).cast(dtype)],
    [`eye ${dtype}`, (d, r, c) => eye(r, c, { dtype, device: d })],
    [`full ${value} ${dtype}`, (d, r, c) => full([r, c], value, { dtype, device: d })],
    [`arange ${start} by ${step} ${numeric}`, (d, r, c) =>
      arange(start, start + r * c * step, step, { dtype: numeric, device: d }).reshape([r, c])],
    [`tril of ones ${dtype} at ${diagonal}`, (d, r, c) => tril(ones([r, c], { dtype, device: d }), diagonal)],
    [`triu of ones ${dtype} at ${diagonal}`, (d, r, c) => triu(ones([r, c], { dtype, device: d }), diagonal)],
    [`tril of x at ${diagonal}`, (_d, _r, _c, x) => tril(x, diagonal)],
    [`triu of x at ${diagonal}`, (_d, _r, _c, x) => triu(x, diagonal)],
    [`flip of x along ${axis}`, (_d, _r, _c, x) => flip(x, axis)],
    [`linspace ${start} to ${value} ${numeric}`, (d, r, c) =>
      linspace(start, value, r * c, { dtype: numeric, device: d }).reshape([r, c])],
    ['rand', (d, r, c) => rand([r, c], { device: d })],
  ];
}

/**
 * How an output uses its constant `k` with the inputs x (float32) and m (bool); `twin()` makes
 * the same constant the other way (on the CPU and moved, or made on the GPU), so that two
 * equal computations on different devices meet in one trace.
 */
const uses: [string, (k: Tensor, x: Tensor, m: Tensor, twin: () => Tensor) => Tensor][] = [
  ['alone', (k) => k],
  ['x + k', (k, x) => x.add(k)],
  ['m or k', (k, _x, m) => m.logicalOr(k)],
  ['x where k != 0', (k, x) => x.where(k.ne(0), -1)],
  ['k - its twin', (k, _x, _m, twin) => k.cast('float32').sub(twin())],
];

/** A program built by `body(device)` over inputs x and m of shape [rows, cols]; `what` describes it. */
interface Program {
  what: string;
  rows: number;
  cols: number;
  body: (device: Device) => (x: Tensor, m: Tensor) => Tensor[];
}

/** A random program: a few outputs, each a constant made on the GPU or on the CPU and moved, used with the inputs. */
function program(next: () => number): Program {
  const rows = 1 + Math.floor(next() * 5), cols = 1 + Math.floor(next() * 5);
  const outs = Array.from({ length: 2 + Math.floor(next() * 3) }, () => {
    const all = makers(next);
    const [name, make] = all[Math.floor(next() * all.length)]!;
    const [use, apply] = uses[Math.floor(next() * uses.length)]!;
    // A triangle of x is made where x is; the others on the GPU or on the CPU and then moved.
    const moved = !name.includes(' of x ') && next() < 0.5;
    // Random draws differ from one draw to the next, so a twin of rand is drawn the same way.
    const twinMoved = name === 'rand' ? moved : !moved;
    const what = `${use} with k = ${name}${moved ? ' made on the cpu and moved' : ''}`;
    return { what, make, apply, moved, twinMoved };
  });
  return {
    what: `[${rows},${cols}]: ${outs.map((o) => o.what).join('; ')}`,
    rows,
    cols,
    body: (device) => (x, m) => outs.map((o) => {
      const make = (moved: boolean) =>
        (moved ? o.make('cpu', rows, cols, x).to(device) : o.make(device, rows, cols, x));
      return o.apply(make(o.moved), x, m, () => make(o.twinMoved));
    }),
  };
}

/** A bool [rows, cols] tensor on `device` with the given truth values. */
function mask(values: boolean[], rows: number, cols: number, device: Device): Tensor {
  return tensor(values.map(Number), { shape: [rows, cols], dtype: 'bool', device });
}

/** Runs `f` (jit of `body`) for `calls` calls on fresh inputs, comparing each result with `body` on the CPU. */
async function sameAsCpu(
  f: (...a: Tensor[]) => Tensor[], body: (device: Device) => (...a: Tensor[]) => Tensor[],
  make: (device: Device, call: number) => Tensor[], calls = 4, what = 'program',
): Promise<void> {
  for (let call = 1; call <= calls; call++) {
    // The same seed draws the same numbers on both devices.
    manualSeed(call);
    const got = f(...make('webgpu', call));
    manualSeed(call);
    const want = body('cpu')(...make('cpu', call));
    expect(got.length).toBe(want.length);
    for (let o = 0; o < want.length; o++) {
      expect(got[o]!.device, `${what}, call ${call}, output ${o}: device`).toBe('webgpu');
      await expectClose(await got[o]!.cpu(), want[o]!, `${what}, call ${call}, output ${o}`);
    }
  }
}

onGpu('in-trace constants on webgpu', () => {
  it('a GPU triangle and a CPU-made eye moved to the GPU, in two outputs, replay correctly', async () => {
    const body = (device: Device) => (m: Tensor) => [
      tril(ones([4, 4], { dtype: 'bool', device })),
      m.logicalOr(eye(4, 5, { dtype: 'bool', device })),
    ];
    const f = jit(body('webgpu'));
    const truths = (call: number) => Array.from({ length: 20 }, (_, i) => (i * 7 + call) % 5 === 0);
    await sameAsCpu(f, body, (device, call) => [mask(truths(call), 4, 5, device)], 5);
    expect(f.stats.replays).toBe(3);
  });

  it('an iota made on the GPU and an equal one used on the CPU stay two values (the smallest failing graph)', async () => {
    // Merged into one, the GPU value's reshape fed the CPU add, which read an empty CPU array: zeros.
    const body = (device: Device) => (x: Tensor) => [
      x.add(iota(4, device).reshape([2, 2])),
      iota(4).reshape([2, 2]).add(1).to(device),
    ];
    const f = jit(body('webgpu'));
    await sameAsCpu(f, body, (device, call) => [tensor([call, 2, -1, 0.5], { shape: [2, 2], device })]);
    expect(f.stats.replays).toBe(2);
  });

  it('an iota made on the GPU and returned as it is comes back on the GPU', async () => {
    const body = (device: Device) => (x: Tensor) => [x.neg(), iota(4, device), iota(4).add(1).to(device)];
    const f = jit(body('webgpu'));
    await sameAsCpu(f, body, (device, call) => [tensor([call, 2], { device })]);
    expect(f.stats.replays).toBe(2);
  });

  it('a random draw made on the GPU and returned as it is comes back on the GPU', async () => {
    const body = (device: Device) => (x: Tensor) => [x.neg(), rand([4], { device })];
    const f = jit(body('webgpu'));
    await sameAsCpu(f, body, (device, call) => [tensor([call, 2], { device })]);
    expect(f.stats.replays).toBe(2);
  });

  it('random programs with several outputs and in-trace constants replay as the cpu computes them', async () => {
    await withSeed('webgpu jit constants', async (next) => {
      for (let p = 0; p < 40; p++) {
        const { what, rows, cols, body } = program(next);
        const n = rows * cols;
        const f = jit(body('webgpu'));
        const make = (device: Device, call: number): Tensor[] => [
          tensor(Array.from({ length: n }, (_, i) => ((i * 5 + call * 3) % 7) - 3), { shape: [rows, cols], device }),
          mask(Array.from({ length: n }, (_, i) => (i + call) % 3 === 0), rows, cols, device),
        ];
        await sameAsCpu(f, body, make, 4, `program ${p} ${what}`);
        expect(f.stats.replays, what).toBe(2);
      }
    });
  });
});
