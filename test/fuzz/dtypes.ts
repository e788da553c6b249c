/** kiln's promotion rules as the fuzzer predicts them (PyTorch's lattice, JS numbers as weak scalars). */
import type { FuzzDType, Mode } from './program.js';

const ORDER: readonly FuzzDType[] = ['bool', 'int32', 'float32', 'float64'];

/** The dtype of an op on two tensors. */
export function promote(a: FuzzDType, b: FuzzDType): FuzzDType {
  return ORDER.indexOf(a) >= ORDER.indexOf(b) ? a : b;
}

/** The dtype of an op on a tensor and a JS number. */
export function promoteScalar(d: FuzzDType, c: number): FuzzDType {
  if (d === 'float32' || d === 'float64') return d;
  return Number.isInteger(c) ? 'int32' : 'float32';
}

/** The float dtype math on `d` computes in (int32 and bool become float32). */
export function floatOf(d: FuzzDType): FuzzDType {
  return d === 'float64' ? 'float64' : 'float32';
}

/** The dtypes a program of `mode` may hold. */
export function dtypesFor(mode: Mode): FuzzDType[] {
  switch (mode) {
    case 'values': return ['float32', 'float32', 'float32', 'float64', 'int32', 'int32', 'bool'];
    case 'webgpu': return ['float32', 'float32', 'float32', 'int32', 'bool'];
    case 'grad': return ['float32'];
    default: {
      const never: never = mode;
      throw new Error(`unknown mode ${String(never)}`);
    }
  }
}

/** A value stored in `dtype`, as kiln stores it: float32 rounded, int32 wrapped, bool as 0/1. */
export function store(x: number, dtype: FuzzDType): number {
  switch (dtype) {
    case 'float32': return Math.fround(x);
    case 'float64': return x;
    case 'int32': return new Int32Array([x])[0]!;
    case 'bool': return x !== 0 ? 1 : 0;
    default: {
      const never: never = dtype;
      throw new Error(`unknown dtype ${String(never)}`);
    }
  }
}
