/**
 * Runs kiln's Wasm math functions over float32 arrays: one module with, for every function,
 * a loop of its vector form (four lanes at a time) and a loop of its scalar form.
 * Unary loops take (src, dst, bytes), binary ones (a, b, dst, bytes).
 */
import { ModuleBuilder, type Code } from '../../../../compiler/codegen/wasm/encoder.js';
import {
  WasmMath, wasmMathBinaryFns, wasmMathFns, type WasmMathBinaryFn, type WasmMathFn,
} from '../../../../compiler/codegen/wasm/math.js';
import { wasmApi } from '../../../../runtime/wasm/api.js';

const api = wasmApi!;

/** dst[i] = f(args[i]...) for every `step` bytes; the last two parameters are dst and bytes. */
function mapLoop(code: Code, args: number, step: number, load: (c: Code) => void, store: (c: Code) => void): void {
  const [dst, bytes] = [args, args + 1];
  const i = code.local('i32');
  code.open('block').open('loop');
  code.get(i).get(bytes).op('i32.ge_u').indexed('br_if', 1);
  code.get(dst).get(i).op('i32.add');
  for (let a = 0; a < args; a++) load(code.get(a).get(i).op('i32.add'));
  store(code);
  code.get(i).i32(step).op('i32.add').set(i);
  code.indexed('br', 0).end().end();
}

const vectorLoad = (c: Code) => c.simdMem('v128.load');
const vectorStore = (c: Code) => c.simdMem('v128.store');
const scalarLoad = (c: Code) => c.mem('f32.load');
const scalarStore = (c: Code) => c.mem('f32.store');

/** The module's bytes: exports `v_<fn>` and `s_<fn>` for every function. */
export function renderMathMaps(pages: number): Uint8Array {
  const module = new ModuleBuilder({ initial: pages, shared: false });
  const math = new WasmMath(module);
  const i32 = (n: number) => Array.from({ length: n }, () => 'i32' as const);
  for (const fn of wasmMathFns) {
    module.func(`v_${fn}`, i32(3), [], (code) => mapLoop(code, 1, 16, vectorLoad, (c) => {
      vectorStore(c.indexed('call', math.vector(fn)));
    }));
    module.func(`s_${fn}`, i32(3), [], (code) => mapLoop(code, 1, 4, scalarLoad, (c) => {
      scalarStore(c.indexed('call', math.scalar(fn)));
    }));
  }
  for (const fn of wasmMathBinaryFns) {
    module.func(`v_${fn}`, i32(4), [], (code) => mapLoop(code, 2, 16, vectorLoad, (c) => {
      vectorStore(c.indexed('call', math.vectorBinary(fn)));
    }));
    module.func(`s_${fn}`, i32(4), [], (code) => mapLoop(code, 2, 4, scalarLoad, (c) => {
      scalarStore(c.indexed('call', math.scalarBinary(fn)));
    }));
  }
  return module.encode();
}

/** Maps float32 arrays through the vector or the scalar form of each function, in chunks that fit the memory. */
export class MathMaps {
  private readonly exports: Record<string, unknown>;
  private readonly memory: { buffer: ArrayBuffer | SharedArrayBuffer };
  /** The memory's size in float32. */
  private readonly floats: number;

  constructor(pages = 128) {
    const bytes = renderMathMaps(pages);
    if (!api.validate(bytes)) throw new Error('the math maps module does not validate');
    this.memory = new api.Memory({ initial: pages });
    this.exports = new api.Instance(new api.Module(bytes), { env: { memory: this.memory } }).exports;
    this.floats = (pages * 65536) / 4;
  }

  /** f over xs; `form` picks the vector loop (xs padded to whole vectors) or the scalar one. */
  map(fn: WasmMathFn, form: 'vector' | 'scalar', xs: Float32Array): Float32Array {
    return this.run(fn, form, [xs]);
  }

  /** f over the pairs (as[i], bs[i]). */
  map2(fn: WasmMathBinaryFn, form: 'vector' | 'scalar', as: Float32Array, bs: Float32Array): Float32Array {
    return this.run(fn, form, [as, bs]);
  }

  private run(fn: WasmMathFn | WasmMathBinaryFn, form: 'vector' | 'scalar', args: Float32Array[]): Float32Array {
    const loop = this.exports[`${form === 'vector' ? 'v' : 's'}_${fn}`] as (...pointers: number[]) => void;
    const n = args[0]!.length;
    const out = new Float32Array(n);
    // Room for each argument and the result, whole vectors each.
    const chunk = Math.floor(this.floats / (args.length + 1) / 4) * 4;
    for (let at = 0; at < n; at += chunk) {
      const count = Math.min(chunk, n - at);
      const heap = new Float32Array(this.memory.buffer);
      heap.fill(0);
      args.forEach((xs, k) => heap.set(xs.subarray(at, at + count), k * chunk));
      const bytes = form === 'vector' ? Math.ceil(count / 4) * 16 : count * 4;
      loop(...args.map((_, k) => k * chunk * 4), args.length * chunk * 4, bytes);
      out.set(heap.subarray(args.length * chunk, args.length * chunk + count), at);
    }
    return out;
  }
}
