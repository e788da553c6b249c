/** PyTorch-style printing of modules: `Name(settings)` with children indented one per line. */
import type { Module } from './module.js';

/** A value worth showing among a module's settings. */
function shown(v: unknown): string | undefined {
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (typeof v === 'string') return `'${v}'`;
  if (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'number')) return `[${v.join(', ')}]`;
  return undefined;
}

/** The settings of a module as `name=value` pairs: its own number, boolean and string fields. */
export function defaultExtraRepr(m: Module): string {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(m)) {
    if (key === 'training') continue;
    const text = shown(value);
    if (text !== undefined) parts.push(`${key}=${text}`);
  }
  return parts.join(', ');
}

/** `m`'s tree as PyTorch's `repr` prints it. */
export function moduleRepr(m: Module): string {
  const extra = m.extraRepr();
  const children = m.namedChildren();
  const name = m.constructor.name;
  if (children.length === 0) return `${name}(${extra})`;
  const lines = extra ? [extra] : [];
  for (const [key, child] of children) lines.push(`(${key}): ${moduleRepr(child).split('\n').join('\n  ')}`);
  return `${name}(\n  ${lines.join('\n  ')}\n)`;
}
