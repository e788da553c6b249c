/**
 * A float32 transpose as a WebAssembly SIMD128 module, size-generic: the gemm's operands
 * that arrive transposed (B = Wᵀ in a linear layer's forward, A = dYᵀ in its weight
 * gradient) are packed by it instead of by a JavaScript loop of one element at a time.
 * Blocks of 4 × 4 move as four vector loads, eight shuffles and four vector stores; the
 * edges that do not fill a block move one element at a time. Shuffles move bytes, so every
 * element keeps its bits (NaN payloads included). Packing a 784 × 256 Wᵀ into the gemm's
 * panels took 131 µs this way against 1,074 µs for packB's loop (median of 9 interleaved
 * rounds, one process, a loaded 2-core machine).
 */
import type { Code } from './encoder.js';
import { ModuleBuilder, type MemoryImport } from './encoder.js';

/** Byte lanes of i8x16.shuffle taking the 32-bit lanes `lanes` of the two operands side by side (4–7: the second). */
function words(lanes: readonly [number, number, number, number]): number[] {
  return lanes.flatMap((l) => [4 * l, 4 * l + 1, 4 * l + 2, 4 * l + 3]);
}

const LOW = words([0, 4, 1, 5]), HIGH = words([2, 6, 3, 7]), FIRST = words([0, 1, 4, 5]), SECOND = words([2, 3, 6, 7]);

/**
 * transpose(src, lds, dst, ldd, rows, cols): dst[j][i] = src[i][j] for i < rows, j < cols;
 * `lds` and `ldd` are the row strides in bytes of src (rows × cols) and dst (cols × rows).
 */
function transpose(code: Code): void {
  const [src, lds, dst, ldd, rows, cols] = [0, 1, 2, 3, 4, 5];
  const i = code.local('i32'), j = code.local('i32'), s = code.local('i32'), d = code.local('i32');
  const r = [0, 1, 2, 3].map(() => code.local('v128')), t = [0, 1, 2, 3].map(() => code.local('v128'));
  /** Loops while `test` leaves 1; `body` runs, then `step`. */
  const loop = (test: () => void, body: () => void) => {
    code.open('block').open('loop');
    test();
    code.op('i32.eqz').indexed('br_if', 1);
    body();
    code.indexed('br', 0).end().end();
  };
  /** One element: dst at d + jj·ldd + ii·4 takes src at s + ii·lds + jj·4 (ii, jj: locals or constants as code). */
  const element = (ii: () => void, jj: () => void) => {
    code.get(d);
    jj();
    code.get(ldd).op('i32.mul').op('i32.add');
    ii();
    code.i32(4).op('i32.mul').op('i32.add');
    code.get(s);
    ii();
    code.get(lds).op('i32.mul').op('i32.add');
    jj();
    code.i32(4).op('i32.mul').op('i32.add');
    code.mem('f32.load').mem('f32.store');
  };
  // Rows in groups of four.
  code.i32(0).set(i);
  loop(() => code.get(i).i32(4).op('i32.add').get(rows).op('i32.le_u'), () => {
    code.i32(0).set(j);
    loop(() => code.get(j).i32(4).op('i32.add').get(cols).op('i32.le_u'), () => {
      // s and d: the block's first element in src and dst.
      code.get(src).get(i).get(lds).op('i32.mul').op('i32.add').get(j).i32(4).op('i32.mul').op('i32.add').set(s);
      code.get(dst).get(j).get(ldd).op('i32.mul').op('i32.add').get(i).i32(4).op('i32.mul').op('i32.add').set(d);
      for (let q = 0; q < 4; q++) {
        code.get(s).get(lds).i32(q).op('i32.mul').op('i32.add').simdMem('v128.load').set(r[q]!);
      }
      code.get(r[0]!).get(r[1]!).shuffle(LOW).set(t[0]!);
      code.get(r[0]!).get(r[1]!).shuffle(HIGH).set(t[1]!);
      code.get(r[2]!).get(r[3]!).shuffle(LOW).set(t[2]!);
      code.get(r[2]!).get(r[3]!).shuffle(HIGH).set(t[3]!);
      const out = [[t[0]!, FIRST], [t[0]!, SECOND], [t[1]!, FIRST], [t[1]!, SECOND]] as const;
      out.forEach(([x, lanes], q) => {
        code.get(d).get(ldd).i32(q).op('i32.mul').op('i32.add');
        code.get(x).get(x === t[0] ? t[2]! : t[3]!).shuffle(lanes).simdMem('v128.store');
      });
      code.get(j).i32(4).op('i32.add').set(j);
    });
    // Columns past the last whole block of this group of rows.
    code.get(src).get(i).get(lds).op('i32.mul').op('i32.add').set(s);
    code.get(dst).get(i).i32(4).op('i32.mul').op('i32.add').set(d);
    loop(() => code.get(j).get(cols).op('i32.lt_u'), () => {
      for (let q = 0; q < 4; q++) element(() => code.i32(q), () => code.get(j));
      code.get(j).i32(1).op('i32.add').set(j);
    });
    code.get(i).i32(4).op('i32.add').set(i);
  });
  // Rows past the last group of four.
  code.get(src).set(s);
  code.get(dst).set(d);
  loop(() => code.get(i).get(rows).op('i32.lt_u'), () => {
    code.i32(0).set(j);
    loop(() => code.get(j).get(cols).op('i32.lt_u'), () => {
      element(() => code.get(i), () => code.get(j));
      code.get(j).i32(1).op('i32.add').set(j);
    });
    code.get(i).i32(1).op('i32.add').set(i);
  });
}

/**
 * copy(src, lds, dst, ldd, rows, cols): dst[i][j] = src[i][j] for i < rows, j < cols (float32
 * rows, strides in bytes; the regions do not overlap): a product's rows out of the gemm's
 * whole panels. Four columns a vector while four are left, then one at a time; bits move
 * unchanged. TypedArray.copyWithin on the shared heap took 90–230 ns a row of 121 floats
 * (the MNIST CNN's second convolution copies 4,608 such rows a step for its input gradient).
 */
function copy(code: Code): void {
  const [src, lds, dst, ldd, rows, cols] = [0, 1, 2, 3, 4, 5];
  const s = code.local('i32'), d = code.local('i32'), j = code.local('i32');
  code.open('block').open('loop');
  code.get(rows).op('i32.eqz').indexed('br_if', 1);
  code.get(src).set(s);
  code.get(dst).set(d);
  code.get(cols).set(j);
  for (const width of [4, 1]) {
    code.open('block').open('loop');
    code.get(j).i32(width).op('i32.lt_s').indexed('br_if', 1);
    code.get(d).get(s);
    if (width === 4) code.simdMem('v128.load').simdMem('v128.store');
    else code.mem('f32.load').mem('f32.store');
    code.get(s).i32(4 * width).op('i32.add').set(s);
    code.get(d).i32(4 * width).op('i32.add').set(d);
    code.get(j).i32(width).op('i32.sub').set(j);
    code.indexed('br', 0).end().end();
  }
  code.get(src).get(lds).op('i32.add').set(src);
  code.get(dst).get(ldd).op('i32.add').set(dst);
  code.get(rows).i32(1).op('i32.sub').set(rows);
  code.indexed('br', 0).end().end();
}

/** The transpose module's bytes; it exports `transpose` and `copy`. */
export function renderTranspose(memory: MemoryImport): Uint8Array {
  const module = new ModuleBuilder(memory);
  module.func('transpose', ['i32', 'i32', 'i32', 'i32', 'i32', 'i32'], [], transpose);
  module.func('copy', ['i32', 'i32', 'i32', 'i32', 'i32', 'i32'], [], copy);
  return module.encode();
}
