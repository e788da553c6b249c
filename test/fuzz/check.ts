/** Comparing kiln's results with the float64 reference, and with each other bit for bit. */
import type { Tensor } from '../../src/index.js';
import { store } from './dtypes.js';
import type { Check, RefValue } from './op-record.js';
import type { FuzzDType } from './program.js';

const FLT_MAX = 3.4028234663852886e38;

/** Elements of a tensor as numbers, on any device. */
export async function readValues(t: Tensor): Promise<RefValue> {
  const data = t.device === 'cpu' ? t.data() : await t.dataAsync();
  return { shape: t.shape.slice(), dtype: t.dtype as FuzzDType, values: Array.from(data as ArrayLike<number>, Number) };
}

/** Synchronous read of a CPU tensor. */
export function readCpu(t: Tensor): RefValue {
  return { shape: t.shape.slice(), dtype: t.dtype as FuzzDType, values: Array.from(t.data() as ArrayLike<number>, Number) };
}

function fmt(x: number): string {
  return Object.is(x, -0) ? '-0' : String(x);
}

/** How far a `math` op's result may be from the float64 one: a few ulps, plus a little near zero. */
function mathTolerance(r: number, dtype: FuzzDType, device: string): number {
  // float32 math is within a few ulps on the CPU; WGSL specifies its builtins more loosely (ULPs growing with |x|).
  const [rel, abs] = dtype === 'float64' ? [2 ** -45, 2 ** -60] : device === 'cpu' ? [2 ** -20, 2 ** -24] : [2 ** -14, 2 ** -16];
  return rel * Math.abs(r) + abs;
}

function elementOk(k: number, r: number, dtype: FuzzDType, check: Check, bound: number, device: string): boolean {
  if (dtype === 'int32' || dtype === 'bool') return k === store(r, dtype);
  if (Number.isNaN(r)) return Number.isNaN(k);
  const stored = store(r, dtype);
  if (check === 'exact' && device === 'cpu') return Object.is(k, stored);
  if (check === 'select' && device === 'cpu') return k === stored;
  if (!Number.isFinite(stored)) {
    return k === stored || (check !== 'exact' && check !== 'select' && Number.isFinite(r) && Math.abs(k) >= FLT_MAX * (1 - 2 ** -20));
  }
  if (Number.isNaN(k) || !Number.isFinite(k)) {
    // A float32 partial sum may overflow where the float64 one does not.
    return check === 'accumulate' && bound * 2 ** 22 > FLT_MAX;
  }
  const tol = check === 'accumulate' ? bound + mathTolerance(r, dtype, device)
    : check === 'exact' || check === 'select' ? 2 ** -22 * Math.abs(r) + 2 ** -126
      : mathTolerance(r, dtype, device);
  return Math.abs(k - stored) <= tol || (Math.abs(stored) <= 2 ** -126 && Math.abs(k) <= 2 ** -126);
}

/** Why kiln's result differs from the reference, or undefined when it agrees. */
export function compareToRef(k: RefValue, ref: RefValue, check: Check, device: string): string | undefined {
  if (k.dtype !== ref.dtype) return `dtype ${k.dtype}, reference ${ref.dtype}`;
  if (k.shape.join() !== ref.shape.join()) return `shape [${k.shape}], reference [${ref.shape}]`;
  for (let i = 0; i < k.values.length; i++) {
    if (!elementOk(k.values[i]!, ref.values[i]!, k.dtype, check, ref.bound?.[i] ?? 0, device)) {
      const bound = ref.bound ? ` (±${ref.bound[i]!.toExponential(2)})` : '';
      return `element ${i}: kiln ${fmt(k.values[i]!)}, reference ${fmt(ref.values[i]!)}${bound}`;
    }
  }
  return undefined;
}

/** Why two results differ bit for bit (NaN equals NaN; -0 differs from 0), or undefined. */
export function compareBitwise(a: RefValue, b: RefValue, what: [string, string]): string | undefined {
  if (a.dtype !== b.dtype) return `dtype: ${what[0]} ${a.dtype}, ${what[1]} ${b.dtype}`;
  if (a.shape.join() !== b.shape.join()) return `shape: ${what[0]} [${a.shape}], ${what[1]} [${b.shape}]`;
  for (let i = 0; i < a.values.length; i++) {
    if (!Object.is(a.values[i], b.values[i])) {
      const zeros = a.values[i] === 0 && b.values[i] === 0 ? ' (sign of zero)' : '';
      return `element ${i}${zeros}: ${what[0]} ${fmt(a.values[i]!)}, ${what[1]} ${fmt(b.values[i]!)}`;
    }
  }
  return undefined;
}
