/** PyTorch-style printing: tensor([[1.0000, 2.5000], …]) with shared precision per tensor. */
import type { Tensor } from './tensor.js';
import { readContiguous } from './read.js';

/** Above this many elements, only the first and last three of each dim are shown. */
const SUMMARIZE_OVER = 1000;
const EDGE = 3;

function formatter(values: ArrayLike<number>, dtype: string): (v: number) => string {
  if (dtype === 'bool') return (v) => (v ? 'True' : 'False');
  if (dtype === 'int32') return (v) => String(v);
  let allInt = true, maxAbs = 0, minAbs = Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) continue;
    if (!Number.isInteger(v)) allInt = false;
    const a = Math.abs(v);
    maxAbs = Math.max(maxAbs, a);
    if (a > 0) minAbs = Math.min(minAbs, a);
  }
  const special = (v: number): string | null => (Number.isNaN(v) ? 'nan' : v === Infinity ? 'inf' : v === -Infinity ? '-inf' : null);
  const sci = maxAbs >= 1e8 || (minAbs < 1e-4 && minAbs !== Infinity) || (minAbs !== Infinity && maxAbs / minAbs > 1000 && !allInt);
  if (allInt && maxAbs < 1e8) return (v) => special(v) ?? `${v.toFixed(0)}.`;
  if (sci) return (v) => special(v) ?? v.toExponential(4).replace(/e([+-])(\d)$/, 'e$10$2');
  return (v) => special(v) ?? v.toFixed(4);
}

/** The text PyTorch would print for a tensor with these values. */
export function formatTensor(t: Tensor): string {
  const flat = readContiguous(t);
  const fmt = formatter(flat, t.dtype);
  const summarize = t.size > SUMMARIZE_OVER;
  const strides = t.shape.map((_, d) => t.shape.slice(d + 1).reduce((p, x) => p * x, 1));
  // Two passes over the shown elements: the first finds the column width.
  let width = 0;
  let cell = (i: number): string => {
    const c = fmt(flat[i]!);
    width = Math.max(width, c.length);
    return c;
  };
  const render = (d: number, base: number, indent: string): string => {
    const n = t.shape[d]!;
    const idx = summarize && n > 2 * EDGE ? [...Array(EDGE).keys(), -1, ...Array.from({ length: EDGE }, (_, i) => n - EDGE + i)] : [...Array(n).keys()];
    if (d === t.ndim - 1) return `[${idx.map((i) => (i < 0 ? '...' : cell(base + i))).join(', ')}]`;
    const sep = ',' + '\n'.repeat(t.ndim - 1 - d) + indent + ' ';
    return `[${idx.map((i) => (i < 0 ? '...' : render(d + 1, base + i * strides[d]!, indent + ' '))).join(sep)}]`;
  };
  let body: string;
  if (t.ndim === 0) body = fmt(flat[0]!);
  else if (t.size === 0) body = '[]';
  else {
    render(0, 0, '       ');
    cell = (i) => fmt(flat[i]!).padStart(width);
    body = render(0, 0, '       ');
  }
  const suffix: string[] = [];
  if (t.size === 0 && t.ndim > 1) suffix.push(`size=[${t.shape.join(', ')}]`);
  if (t.dtype === 'float64' || t.dtype === 'int32') suffix.push(`dtype=${t.dtype}`);
  if (t.requiresGrad) suffix.push('requiresGrad=true');
  return `tensor(${body}${suffix.length ? ', ' + suffix.join(', ') : ''})`;
}
