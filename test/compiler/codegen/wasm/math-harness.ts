/**
 * Runs kiln's Wasm math functions over float32 arrays: one module with, for every function,
 * a loop of its vector form (four lanes at a time) and a loop of its scalar form.
 */
import { ModuleBuilder, type Code } from '../../../../compiler/codegen/wasm/encoder.js';
import { WasmMath, wasmMathFns, type WasmMathFn } from '../../../../compiler/codegen/wasm/math.js';
import { wasmApi } from '../../../../runtime/wasm/api.js';

const api = wasmApi!;

/** (src, dst, bytes): dst[i] = f(src[i]) for every `step` bytes, `call` computing one step's value. */
function mapLoop(code: Code, step: number, load: (c: Code) => void, store: (c: Code) => void): void {
  const [src, dst, bytes] = [0, 1, 2];
  const i = code.local('i32');
  code.open('block').open('loop');
  code.get(i).get(bytes).op('i32.ge_u').indexed('br_if', 1);
  code.get(dst).get(i).op('i32.add');
  load(code.get(src).get(i).op('i32.add'));
  store(code);
  code.get(i).i32(step).op('i32.add').set(i);
  code.indexed('br', 0).end().end();
}

/** The module's bytes: exports `v_<fn>` and `s_<fn>` for every function. */
export function renderMathMaps(pages: number): Uint8Array {
  const module = new ModuleBuilder({ initial: pages, shared: false });
  const math = new WasmMath(module);
  for (const fn of wasmMathFns) {
    module.func(`v_${fn}`, ['i32', 'i32', 'i32'], [], (code) => mapLoop(
      code, 16, (c) => c.simdMem('v128.load').indexed('call', math.vector(fn)), (c) => c.simdMem('v128.store'),
    ));
    module.func(`s_${fn}`, ['i32', 'i32', 'i32'], [], (code) => mapLoop(
      code, 4, (c) => c.mem('f32.load').indexed('call', math.scalar(fn)), (c) => c.mem('f32.store'),
    ));
  }
  return module.encode();
}

/** Maps float32 arrays through the vector or the scalar form of each function, in chunks that fit the memory. */
export class MathMaps {
  private readonly exports: Record<string, unknown>;
  private readonly memory: { buffer: ArrayBuffer | SharedArrayBuffer };
  private readonly chunk: number;

  constructor(pages = 128) {
    const bytes = renderMathMaps(pages);
    if (!api.validate(bytes)) throw new Error('the math maps module does not validate');
    this.memory = new api.Memory({ initial: pages });
    this.exports = new api.Instance(new api.Module(bytes), { env: { memory: this.memory } }).exports;
    this.chunk = (pages * 65536) / 8;
  }

  /** f over xs; `form` picks the vector loop (xs padded to whole vectors) or the scalar one. */
  map(fn: WasmMathFn, form: 'vector' | 'scalar', xs: Float32Array): Float32Array {
    const run = this.exports[`${form === 'vector' ? 'v' : 's'}_${fn}`] as (src: number, dst: number, n: number) => void;
    const out = new Float32Array(xs.length);
    for (let at = 0; at < xs.length; at += this.chunk) {
      const part = xs.subarray(at, at + this.chunk);
      const heap = new Float32Array(this.memory.buffer);
      heap.fill(0, 0, this.chunk * 2);
      heap.set(part, 0);
      const bytes = form === 'vector' ? Math.ceil(part.length / 4) * 16 : part.length * 4;
      run(0, this.chunk * 4, bytes);
      out.set(new Float32Array(this.memory.buffer, this.chunk * 4, part.length), at);
    }
    return out;
  }
}
