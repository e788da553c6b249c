/** Helpers for the source transform suites: fixture paths, map checks, source lines of markers. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { decodeMappings } from '../../../compiler/source/mappings.js';

/** The repository root, with a trailing slash. */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** The folder of the input fixtures. */
export const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
/** The folder of the runnable programs. */
export const PROGRAMS = fileURLToPath(new URL('./programs/', import.meta.url));

const OPERATOR = /^\s*(===|!==|==|!=|<=|>=|<|>)/;
/** Text the rewrite of a lifted loop or a select puts in place of syntax (the hooks name may carry a number). */
const LIFT_TEXT = /^((await )?__kiln\d*\.(lift(Do|For)?(Async)?|select)\(|\), (undefined, )?\(\) => |\s*\}?, \(\) => |\{ |; (await )?__kiln\d*\.liftFor(Async)?\(|return( 1)?;)/;
/** The loop and `if` syntax it replaces. */
const LOOP_TEXT = /^\s*(while\b|do\b|for\b|if\b|else\b|\)|;|break\b|continue\b)/;

/**
 * Checks a map of `generated` back to `original`: every segment must point at the same
 * character it sits on, except the comma that replaced a comparison operator (and the
 * spaces before it) and the closures a lifted loop's or a select's syntax became. Returns the number of
 * segments checked.
 */
export function checkMap(generated: string, original: string, mappings: string): number {
  const gen = generated.split('\n'), orig = original.split('\n');
  let checked = 0;
  decodeMappings(mappings).forEach((segs, line) => {
    for (const seg of segs) {
      if (seg.length < 4) continue;
      const g = gen[line]![seg[0]];
      const rest = orig[seg[2]!]!.slice(seg[3]!);
      if (g === ',' && OPERATOR.test(rest)) continue;
      if (LIFT_TEXT.test(gen[line]!.slice(seg[0])) && LOOP_TEXT.test(rest)) continue;
      if (g !== rest[0]) throw new Error(`map: generated ${line + 1}:${seg[0] + 1} (${JSON.stringify(gen[line]!.slice(seg[0], seg[0] + 12))}) points at ${seg[2]! + 1}:${seg[3]! + 1} (${JSON.stringify(rest.slice(0, 12))})`);
      checked++;
    }
  });
  expect(checked, 'mapped segments').toBeGreaterThan(0);
  return checked;
}

/** 1-based line and column of `text` on the line of `file` that carries the comment `// site: <marker>`. */
export function siteOf(file: string, marker: string, text: string): { line: number; column: number } {
  const lines = readFileSync(file, 'utf8').split('\n');
  const hits = lines.flatMap((l, i) => (l.includes(`// site: ${marker}`) ? [i] : []));
  if (hits.length !== 1) throw new Error(`siteOf: marker ${marker} found ${hits.length} times in ${file}`);
  const column = lines[hits[0]!]!.indexOf(text);
  if (column < 0) throw new Error(`siteOf: ${text} not on the line of ${marker} in ${file}`);
  return { line: hits[0]! + 1, column: column + 1 };
}

/** "file:line:column" of `text` on the marked line. */
export function siteString(file: string, marker: string, text: string): string {
  const { line, column } = siteOf(file, marker, text);
  return `${file}:${line}:${column}`;
}
