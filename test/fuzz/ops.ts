/** Every fuzz op, by name. */
import type { OpRecord } from './op-record.js';
import { elementwiseOps } from './ops-elementwise.js';
import { reduceOps } from './ops-reduce.js';
import { viewOps } from './ops-view.js';
import { writeOps } from './ops-write.js';

export const allOps: readonly OpRecord[] = [...elementwiseOps, ...reduceOps, ...viewOps, ...writeOps];

const byName = new Map(allOps.map((o) => [o.name, o]));

export function opNamed(name: string): OpRecord {
  const op = byName.get(name);
  if (op === undefined) throw new Error(`fuzz: no op named ${name}`);
  return op;
}
