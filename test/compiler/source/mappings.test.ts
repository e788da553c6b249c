/**
 * Source map mappings: decoding agrees with magic-string's own decoded maps, encoding
 * round-trips, lookups find the segment at or before a column, and composing the maps of
 * two edits maps the final code straight to the first source.
 */
import MagicString from 'magic-string';
import { describe, expect, it } from 'vitest';
import {
  composeMaps, decodeMappings, encodeMappings, inlineMapComment, originalPosition, splitInlineMap, type Segment,
} from '../../../compiler/source/mappings.js';

function edited(): MagicString {
  const s = new MagicString('const a = 1;\nlet bb = a < 2 ? a : -a;\n\nexport { bb };\n');
  s.overwrite(27, 28, '>=');
  s.prependLeft(0, '/* x */ ');
  s.appendRight(13, 'a = a + 1000000;\n');
  s.remove(40, 42);
  return s;
}

describe('mappings', () => {
  it('decode as magic-string decodes its own, low and high resolution', () => {
    for (const hires of [false, true] as const) {
      const s = edited();
      const map = s.generateMap({ hires, source: 'in.js', includeContent: true });
      expect(decodeMappings(map.mappings)).toEqual(s.generateDecodedMap({ hires, source: 'in.js' }).mappings);
    }
  });

  it('encode back to the same text, with names and empty lines', () => {
    const lines: Segment[][] = [[[0, 0, 0, 0], [4, 0, 0, 6, 0]], [], [[2], [7, 1, 5, 3, 1], [40, 0, 1000, 2000]], []];
    const text = encodeMappings(lines);
    expect(decodeMappings(text)).toEqual(lines);
    const map = edited().generateMap({ hires: true });
    expect(encodeMappings(decodeMappings(map.mappings))).toBe(map.mappings);
  });

  it('reject characters outside base64', () => {
    expect(() => decodeMappings('AA!A')).toThrow(/invalid character "!"/);
  });

  it('look up the segment at or before a column', () => {
    const lines: Segment[][] = [[[0, 0, 3, 1], [5, 0, 3, 9], [9]]];
    expect(originalPosition(lines, 0, 0)).toEqual({ source: 0, line: 3, column: 1 });
    expect(originalPosition(lines, 0, 4)).toEqual({ source: 0, line: 3, column: 1 });
    expect(originalPosition(lines, 0, 5)).toEqual({ source: 0, line: 3, column: 9 });
    // A segment without a source maps nothing.
    expect(originalPosition(lines, 0, 12)).toBeUndefined();
    expect(originalPosition(lines, 1, 0)).toBeUndefined();
    expect(originalPosition([[[3, 0, 0, 0]]], 0, 1)).toBeUndefined();
  });

  it('compose two edits into one map from the last output to the first input', () => {
    const source = 'function f(x) {\n  return x + 1;\n}\n';
    const first = new MagicString(source);
    first.overwrite(0, 8, 'const f = (x) =>'); // `function` keyword becomes an arrow head…
    first.remove(10, 13);
    const middle = first.toString();
    const innerMap = first.generateMap({ hires: true, source: 'orig.js', includeContent: true });
    const second = new MagicString(middle);
    second.prependLeft(0, '// header\n');
    second.overwrite(middle.indexOf('x + 1'), middle.indexOf('x + 1') + 1, 'y');
    const final = second.toString();
    const composed = composeMaps(second.generateMap({ hires: true, source: 'middle.js' }), innerMap);
    expect(composed.sources).toEqual(['orig.js']);
    expect(composed.sourcesContent).toEqual([source]);
    const lines = decodeMappings(composed.mappings);
    // `return` in the final code is `return` in the source.
    const at = (text: string, needle: string) => {
      const i = text.indexOf(needle);
      const before = text.slice(0, i).split('\n');
      return { line: before.length - 1, column: before[before.length - 1]!.length };
    };
    const g = at(final, 'return'), o = at(source, 'return');
    expect(originalPosition(lines, g.line, g.column)).toEqual({ source: 0, ...o });
    // So is the `1`, and the replaced `y` maps to the `x` it replaced.
    const g1 = at(final, '1;'), o1 = at(source, '1;');
    expect(originalPosition(lines, g1.line, g1.column)).toEqual({ source: 0, ...o1 });
    const gy = at(final, 'y +'), ox = at(source, 'x +');
    expect(originalPosition(lines, gy.line, gy.column)).toEqual({ source: 0, ...ox });
  });

  it('read and write inline maps', () => {
    const map = { version: 3, sources: ['/a/é.ts'], sourcesContent: ['const é = "ü";'], names: [], mappings: 'AAAA' };
    const code = `const x = 1;\n${inlineMapComment(map)}\n`;
    const split = splitInlineMap(code);
    expect(split.code).toBe('const x = 1;\n');
    expect(split.map).toEqual(map);
    expect(splitInlineMap('const x = 1;\n')).toEqual({ code: 'const x = 1;\n', map: undefined });
    // Not a data URL, or not base64: left in place.
    expect(splitInlineMap('x;\n//# sourceMappingURL=x.js.map\n').map).toBeUndefined();
    expect(splitInlineMap('x;\n//# sourceMappingURL=data:application/json;base64,!!!\n').map).toBeUndefined();
  });
});
