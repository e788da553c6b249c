/**
 * Tiny exact kernels on the Wasm engine have a JavaScript twin that bound launches run over
 * the memory: at the size bound a bound launch runs the twin, one element past it the Wasm
 * module, and both give the same bits (as the module does, launched eagerly at the bound)
 * for every primitive and dtype the JavaScript form takes, on NaNs with payloads and either
 * sign, ±0, ±Infinity, subnormals and the int32 extremes, wherever the values sit among the
 * Wasm kernel's vector lanes and scalar tail. A lifted loop of such kernels equals eager.
 */
import { describe, expect, it } from 'vitest';
import * as k from '../../src/node.js';
import { wasm } from '../../compiler/backends.js';
import { SMALL_JS_ELEMENTS, smallJsPrims } from '../../compiler/codegen/wasm/render-small.js';
import { lowerElementwise, type Layout } from '../../compiler/lower.js';
import type { DType } from '../../runtime/dtype.js';
import { cpuEngine } from '../../runtime/wasm/engine.js';
import { wasmFeatures } from '../../runtime/wasm/features.js';
import type { WasmBuffer } from '../../runtime/wasm/residency.js';

/** Values as stored bits (int32 words; bool and uint8 as bytes). */
const BITS: Partial<Record<DType, number[]>> = {
  float32: [
    0x7fc00000, 0x7fc00001, 0xffc00000, 0xffd23456, 0x7f800001, 0xff800123, 0, 0x80000000, 0x7f800000, 0xff800000,
    1, 0x807fffff, 0x3f800000, 0xbf800000, 0x7f7fffff, 0x3eaaaaab, 0x40490fdb, 0xc0400000,
  ].map((b) => b | 0),
  int32: [0, 1, -1, 0x7fffffff, -0x80000000, 12345, -999, 65536, 0x40000000, 7, -7, 46341],
  bool: [0, 1],
  uint8: [0, 1, 127, 128, 255],
};

const vec = (dtype: DType, n: number): Layout => ({ dtype, shape: [n], strides: [1], offset: 0 });

/**
 * Runs `prim` over `n` elements of each input (bits), bound `calls` times and once eagerly:
 * whether the kernel has a twin, and the output's bits from each.
 */
function run(prim: Prim, dtypes: readonly DType[], out: DType, inputs: number[][], calls = 1) {
  const n = inputs[0]!.length;
  const lowered = lowerElementwise(prim, dtypes.map((d) => vec(d, n)), vec(out, n));
  const kernel = wasm.compile(lowered.key, lowered.build);
  const word = (d: DType): DType => (d === 'float32' ? 'int32' : d === 'bool' ? 'uint8' : d);
  const buffers: WasmBuffer[] = inputs.map((values, i) => {
    const b = wasm.alloc(dtypes[i]!, n);
    const d = word(dtypes[i]!);
    wasm.write(b, d, d === 'int32' ? Int32Array.from(values) : Uint8Array.from(values));
    return b;
  });
  const result = wasm.alloc(out, n), eager = wasm.alloc(out, n);
  const args = (data: WasmBuffer) => [data, ...buffers].map((b) => ({ data: b, offset: 0 }));
  const launch = wasm.bind([{ kernel, args: args(result), scalars: [] }]);
  for (let call = 0; call < calls; call++) launch();
  wasm.run([{ kernel, args: args(eager), scalars: [] }]);
  const bits = Array.from(wasm.readSync(result, word(out), 0, n));
  const eagerBits = Array.from(wasm.readSync(eager, word(out), 0, n));
  for (const b of [result, eager, ...buffers]) wasm.free(b);
  return { twin: kernel.kind === 'wasm' && kernel.twin !== undefined, bits, eagerBits };
}

/** Every combination of the values of `dtypes`, as columns of equal length. */
function combinations(dtypes: readonly DType[]): number[][] {
  let rows: number[][] = [[]];
  for (const d of dtypes) rows = rows.flatMap((r) => BITS[d]!.map((v) => [...r, v]));
  return dtypes.map((_, i) => rows.map((r) => r[i]!));
}

type Prim = keyof typeof smallJsPrims;
const COMPARISONS: readonly Prim[] = ['lt', 'le', 'eq', 'ne'];
const UNARY: readonly Prim[] = ['copy', 'neg', 'not'];

/** Every primitive and dtype the JavaScript form takes: its operand dtypes and its output dtype. */
const cases: [Prim, DType[], DType][] = (Object.keys(smallJsPrims) as Prim[]).flatMap((prim) =>
  smallJsPrims[prim].map((d): [Prim, DType[], DType] => {
    if (prim === 'where') return [prim, ['bool', d, d], d];
    if (COMPARISONS.includes(prim)) return [prim, [d, d], 'bool'];
    return [prim, UNARY.includes(prim) ? [d] : [d, d], d];
  }));

describe.skipIf(!wasmFeatures().simd || cpuEngine() !== 'wasm')('tiny exact kernels on the Wasm engine', () => {
  it('takes some primitives of every kind of dtype it runs', () => {
    expect(cases.length).toBeGreaterThan(15);
    expect(new Set(cases.flatMap(([, dtypes]) => dtypes))).toEqual(new Set(['float32', 'int32', 'uint8', 'bool']));
  });

  it.each(cases)('%s of %j: the same bits on both sides of the size bound', (prim, dtypes, out) => {
    const columns = combinations(dtypes);
    const m = SMALL_JS_ELEMENTS;
    // Every chunk once (the kernel interpreted), the last 3,000 times over (the kernel optimized).
    for (let at = 0; at < columns[0]!.length; at += m) {
      const calls = at + m >= columns[0]!.length ? 3000 : 1;
      const chunk = columns.map((c) => {
        const part = c.slice(at, at + m);
        while (part.length < m) part.push(c[0]!);
        return part;
      });
      const small = run(prim, dtypes, out, chunk, calls);
      expect(small.twin).toBe(true);
      expect(small.eagerBits).toEqual(small.bits);
      // Past the bound: the values in the vector lanes (first) and in the scalar tail (after three more).
      const lanes = run(prim, dtypes, out, chunk.map((c) => [...c, c[0]!]));
      const tail = run(prim, dtypes, out, chunk.map((c) => [c[1]!, c[2]!, c[3]!, ...c]));
      expect(lanes.twin).toBe(false);
      const what = (i: number) => `${prim} of ${chunk.map((c) => (c[i]! >>> 0).toString(16)).join(', ')}`;
      for (let i = 0; i < m; i++) {
        expect(small.bits[i], what(i)).toBe(lanes.bits[i]);
        expect(small.bits[i], what(i)).toBe(tail.bits[3 + i]);
      }
    }
  });

  it('runs a lifted loop of tiny kernels with the bits of eager', () => {
    function halve(x: k.Tensor, y: k.Tensor): k.Tensor[] {
      while (y < x) {
        x = x.mul(0.75).sub(y.div(3));
        y = y.add(x.abs()).sqrt();
      }
      return [x, y];
    }
    const lifted = k.jit(halve, { rewrite: true });
    const inputs = () => [k.tensor(1e6), k.tensor(0.5)] as const;
    const before = wasm.twins;
    const expected = halve(...inputs()).map((t) => Array.from(new Uint32Array(t.data().buffer)));
    for (let call = 0; call < 3; call++) {
      const got = lifted(...inputs()).map((t) => Array.from(new Uint32Array(t.data().buffer)));
      expect(got, `call ${call}`).toEqual(expected);
    }
    expect(lifted.stats.replays).toBe(1);
    expect(wasm.twins).toBeGreaterThan(before);
  });
});
