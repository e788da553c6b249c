/** Shape helpers for proposing operands that broadcast, and JS literals for printed programs. */
import type { Rng } from './rng.js';

export function broadcastable(a: readonly number[], b: readonly number[]): boolean {
  for (let i = 1; i <= Math.min(a.length, b.length); i++) {
    const x = a[a.length - i]!, y = b[b.length - i]!;
    if (x !== y && x !== 1 && y !== 1) return false;
  }
  return true;
}

export function broadcast(a: readonly number[], b: readonly number[]): number[] {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1, y = b[b.length - n + i] ?? 1;
    out.push(x === 1 ? y : x);
  }
  return out;
}

/** A shape that broadcasts with `s`: some leading dims dropped or added, some dims made 1. */
export function partnerShape(rng: Rng, s: readonly number[]): number[] {
  let t = s.slice(rng.int(0, s.length));
  if (rng.chance(0.5)) t = s.slice();
  t = t.map((d) => (rng.chance(0.3) ? 1 : d));
  if (rng.chance(0.15) && t.length >= s.length && t.length < 4) t.unshift(rng.int(1, 3));
  return t;
}

/** A random shape: rank 0..3, dims mostly 1..4, sometimes 0. */
export function randomShape(rng: Rng, zeroDims: boolean): number[] {
  const rank = rng.weighted([[0, 1], [1, 3], [2, 4], [3, 2]] as const);
  return Array.from({ length: rank }, () => (zeroDims && rng.chance(0.06) ? 0 : rng.chance(0.3) ? 1 : rng.int(2, 4)));
}

/** A JS literal for a number, keeping -0, NaN and the infinities. */
export function lit(x: number): string {
  if (Object.is(x, -0)) return '-0';
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  return String(x);
}
