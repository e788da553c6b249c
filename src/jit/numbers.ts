/**
 * Numbers that change between calls of one signature: fed into the graph (dynamic) instead
 * of compiled per value, once two equal traces prove that each constant linked to such a
 * number is that number; named by where they sit in the call for the messages about them.
 */
import { storedAs } from './signature.js';
import type { Trace } from './trace.js';

/**
 * Whether two equal traces prove that every constant linked to a dynamic number is that
 * number: `unlinked` are numbers no constant came from; `proven` is false when a linked
 * value is the same in both traces or equals another dynamic number (a literal or the
 * other number could have been linked instead).
 */
export function numberLinks(dynamic: readonly number[], a: Trace, b: Trace): { unlinked: number[]; proven: boolean } {
  const linked = new Set<number>();
  let proven = true;
  for (const n of b.graph.nodes) {
    const slot = n.op === 'constant' ? n.params.numberSlot : undefined;
    if (slot === undefined) continue;
    linked.add(slot);
    const value = storedAs(b.numbers[slot]!, n.dtype);
    if (Object.is(storedAs(a.numbers[slot]!, n.dtype), value)) proven = false;
    for (const j of dynamic) if (j !== slot && Object.is(storedAs(b.numbers[j]!, n.dtype), value)) proven = false;
  }
  return { unlinked: dynamic.filter((i) => !linked.has(i)), proven };
}

/** The numbers at `positions` (of the walk), by where they sit: "number args[2]", "numbers this.scale, lr". */
export function numbersNamed(paths: readonly string[], positions: readonly number[]): string {
  const names = positions.map((i) => paths[i] ?? `number ${i}`);
  return `number${names.length > 1 ? 's' : ''} ${names.join(', ')}`;
}
