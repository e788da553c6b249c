/** PyTorch-style printing: tensor([[1.0000, 2.5000], …]) with shared precision per tensor. */
import type { Tensor } from './tensor.js';
import { readContiguous } from './read.js';
import { valuesOf } from '../runtime/stored.js';

/** Above this many elements, only the first and last three of each dim are shown. */
const SUMMARIZE_OVER = 1000;
const EDGE = 3;
/** Rows of elements wrap to lines of at most this many characters, as PyTorch's do. */
const LINE_WIDTH = 80;
const PRECISION = 4;

/**
 * Python's `{:.Nf}` / `{:.Ne}`: JS's toFixed/toExponential, except that an exact tie rounds
 * half to even (JS rounds it away from zero), -0 keeps its sign, and exponents have 2 digits.
 */
function pyFormat(v: number, digits: number, sci: boolean): string {
  if (Number.isNaN(v)) return 'nan';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  const a = Math.abs(v);
  let s = sci ? a.toExponential(digits) : a.toFixed(digits);
  // 40 more digits are exact enough to tell whether the dropped part is exactly one half.
  const [mantissa, exponent] = (sci ? a.toExponential(digits + 40) : a.toFixed(digits + 40)).split('e') as [string, string | undefined];
  const cut = mantissa.indexOf('.') + (digits > 0 ? digits + 1 : 0);
  const lastKept = Number(s[(sci ? s.indexOf('e') : s.length) - 1]);
  if (lastKept % 2 === 1 && /^\.?50*$/.test(mantissa.slice(cut))) s = mantissa.slice(0, cut) + (exponent === undefined ? '' : `e${exponent}`);
  if (sci) s = s.replace(/e([+-])(\d)$/, 'e$10$2');
  return (v < 0 || Object.is(v, -0) ? '-' : '') + s;
}

interface Format {
  /** The text of one value, padded to `width`. */
  cell: (v: number) => string;
  width: number;
}

/**
 * PyTorch's _Formatter: one notation (integral, fixed or scientific) and one width for all
 * the values shown, chosen from their nonzero finite values only.
 */
function formatter(shown: readonly number[], dtype: string): Format {
  let width = 1;
  if (dtype === 'bool' || dtype === 'int32' || dtype === 'uint8') {
    const text = dtype === 'bool' ? (v: number) => (v ? 'True' : 'False') : (v: number) => String(v);
    for (const v of shown) width = Math.max(width, text(v).length);
    return { cell: (v) => text(v).padStart(width), width };
  }
  let intMode = true, sci = false, max = 0, min = Infinity;
  for (const v of shown) {
    if (!Number.isFinite(v) || v === 0) continue;
    if (!Number.isInteger(v)) intMode = false;
    max = Math.max(max, Math.abs(v));
    min = Math.min(min, Math.abs(v));
  }
  if (max > 0) sci = max / min > 1000 || max > 1e8 || (!intMode && min < 1e-4);
  const text = sci
    ? (v: number) => pyFormat(v, PRECISION, true)
    : intMode
      ? (v: number) => pyFormat(v, 0, false) + (Number.isFinite(v) ? '.' : '')
      : (v: number) => pyFormat(v, PRECISION, false);
  for (const v of shown) if (Number.isFinite(v) && v !== 0) width = Math.max(width, text(v).length);
  return { cell: (v) => text(v).padStart(width), width };
}

/** PyTorch's trailing `dtype=…, device=…, requires_grad=…` part, in kiln's names. */
function suffixOf(t: Tensor, showSize: boolean): string[] {
  const suffix: string[] = [];
  if (showSize) suffix.push(`size=[${t.shape.join(', ')}]`);
  if (t.dtype !== 'float32' && t.dtype !== 'bool') suffix.push(`dtype=${t.dtype}`);
  if (t.device !== 'cpu') suffix.push(`device='${t.device}'`);
  if (t.gradFn !== null) suffix.push(`gradFn=<${t.gradFn.prim[0]!.toUpperCase()}${t.gradFn.prim.slice(1)}Backward>`);
  else if (t.requiresGrad) suffix.push('requiresGrad=true');
  return suffix;
}

/** The text PyTorch would print for a tensor with these values. */
export function formatTensor(t: Tensor): string {
  if (t.device !== 'cpu') {
    // Values on a GPU come back only asynchronously: say how to read them instead.
    const suffix = suffixOf(t, true);
    if (t.dtype === 'bool') suffix.splice(1, 0, 'dtype=bool');
    return `tensor(<read with await t.cpu()>, ${suffix.join(', ')})`;
  }
  const flat = valuesOf(readContiguous(t), t.dtype);
  const summarize = t.size > SUMMARIZE_OVER;
  const strides = t.shape.map((_, d) => t.shape.slice(d + 1).reduce((p, x) => p * x, 1));
  // Two passes over the shown elements: the first collects them to choose the format.
  const shown: number[] = [];
  let cell = (i: number): string => {
    shown.push(flat[i]!);
    return '';
  };
  let width = 1;
  const render = (d: number, base: number, indent: number): string => {
    const n = t.shape[d]!;
    const idx = summarize && n > 2 * EDGE ? [...Array(EDGE).keys(), -1, ...Array.from({ length: EDGE }, (_, i) => n - EDGE + i)] : [...Array(n).keys()];
    if (d === t.ndim - 1) {
      const items = idx.map((i) => (i < 0 ? ' ...' : cell(base + i)));
      const perLine = Math.max(1, Math.floor((LINE_WIDTH - indent) / (width + 2)));
      const lines: string[] = [];
      for (let i = 0; i < items.length; i += perLine) lines.push(items.slice(i, i + perLine).join(', '));
      return `[${lines.join(',\n' + ' '.repeat(indent + 1))}]`;
    }
    const sep = ',' + '\n'.repeat(t.ndim - 1 - d) + ' '.repeat(indent + 1);
    return `[${idx.map((i) => (i < 0 ? '...' : render(d + 1, base + i * strides[d]!, indent + 1))).join(sep)}]`;
  };
  const indent = 'tensor('.length;
  let body: string;
  if (t.ndim === 0) body = formatter([flat[0]!], t.dtype).cell(flat[0]!);
  else if (t.size === 0) body = '[]';
  else {
    render(0, 0, indent);
    const fmt = formatter(shown, t.dtype);
    width = fmt.width;
    cell = (i) => fmt.cell(flat[i]!);
    body = render(0, 0, indent);
  }
  const suffix = suffixOf(t, t.size === 0 && t.ndim > 1);
  return `tensor(${body}${suffix.length ? ', ' + suffix.join(', ') : ''})`;
}
