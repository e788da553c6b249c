/**
 * The op table: every op of the Tensor API as records (see ./table/record.ts). An op added to
 * one of these lists is checked against its float64 reference, under jit against eager, by
 * finite differences where differentiable, and on every backend of test/backends.ts.
 */
import { compositeOps } from './table/composite.js';
import { elementwiseRows } from './table/elementwise.js';
import { nnTableRows } from './table/nn.js';
import type { TableRecord } from './table/record.js';
import { reduceRows } from './table/reduce.js';
import { structureRows } from './table/structure.js';
import { writeRows } from './table/writes.js';

export const opTable: readonly TableRecord[] = [
  ...elementwiseRows, ...reduceRows, ...structureRows, ...nnTableRows, ...writeRows, ...compositeOps,
];
