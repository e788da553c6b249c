/**
 * Offsets of the code the transform reads, as the lines and columns a person sees: through
 * an input map when the code is the output of an earlier transform.
 */
import { decodeMappings, originalPosition, type RawSourceMap, type Segment } from './mappings.js';

function lineStarts(code: string): number[] {
  const starts = [0];
  for (let i = 0; i < code.length; i++) {
    const c = code.charCodeAt(i);
    if (c === 10) starts.push(i + 1);
    else if (c === 13) {
      if (code.charCodeAt(i + 1) === 10) i++;
      starts.push(i + 1);
    }
  }
  return starts;
}

/** Maps offsets of `code` to 1-based line and column, through an input map when there is one. */
export class Positions {
  readonly #starts: number[];
  readonly #input: Segment[][] | undefined;

  constructor(code: string, inputMap: RawSourceMap | undefined, readonly firstColumnOffset = 0) {
    this.#starts = lineStarts(code);
    this.#input = inputMap ? decodeMappings(inputMap.mappings) : undefined;
  }

  /** 0-based line and column of `offset` in the code itself. */
  generated(offset: number): { line: number; column: number } {
    let lo = 0, hi = this.#starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.#starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo, column: offset - this.#starts[lo]! };
  }

  /** 1-based line and column of `offset` in the original source. */
  original(offset: number): { line: number; column: number } {
    const g = this.generated(offset);
    const o = this.#input ? originalPosition(this.#input, g.line, g.column) : undefined;
    if (o) return { line: o.line + 1, column: o.column + 1 };
    // Text wrapped for parsing (run-time rewrites) shifts the first line's columns.
    const column = g.line === 0 ? g.column - this.firstColumnOffset : g.column;
    return { line: g.line + 1, column: column + 1 };
  }
}
