import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ValueError, data } from '../../../src/node.js';

const digitsGz = readFileSync(data.dataPath('digits.csv.gz'));

/** Byte equality: much faster than a deep comparison element by element for 100k floats. */
function sameBytes(a: ArrayBufferView, b: ArrayBufferView): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

describe('datasets from bytes and URLs (no file system)', () => {
  it('parseDigits on the gunzipped bytes equals loadDigits', () => {
    const fromBytes = data.parseDigits(gunzipSync(digitsGz));
    const fromFile = data.loadDigits();
    expect(fromBytes.features.shape).toEqual([1797, 64]);
    expect(sameBytes(fromBytes.features.data(), fromFile.features.data())).toBe(true);
    expect(sameBytes(fromBytes.labels.data(), fromFile.labels.data())).toBe(true);
  });

  it('gunzip uses DecompressionStream and passes plain bytes through', async () => {
    expect(Buffer.from(await data.gunzip(digitsGz)).equals(gunzipSync(digitsGz))).toBe(true);
    const plain = new Uint8Array([1, 2, 3]);
    expect(await data.gunzip(plain)).toBe(plain);
    await expect(data.gunzip(new Uint8Array([0x1f, 0x8b, 0, 0]), 'broken.gz')).rejects.toThrow(/gunzip: broken\.gz is not a valid gzip file/);
  });

  it('parsers name gzipped input and bad rows with the source they were given', () => {
    expect(() => data.parseDigits(digitsGz, 'digits.csv.gz')).toThrow(ValueError);
    expect(() => data.parseDigits(digitsGz, 'digits.csv.gz')).toThrow(/parseDigits: digits\.csv\.gz is gzipped/);
    expect(() => data.parseIris(new TextEncoder().encode('x'), 'iris.txt')).toThrow(/parseIris: iris\.txt line 1/);
    expect(() => data.parseMnist(new Uint8Array(2), new Uint8Array(2))).toThrow(/parseMnist: images is too short/);
  });

  it('fetchDigits gunzips what it fetches (a data: URL here)', async () => {
    const url = `data:application/gzip;base64,${digitsGz.toString('base64')}`;
    const fetched = await data.fetchDigits(url);
    expect(fetched.features.shape).toEqual([1797, 64]);
    expect(sameBytes(fetched.labels.data(), data.loadDigits().labels.data())).toBe(true);
  });

  it('fetch errors name the op and the URL', async () => {
    await expect(data.fetchIris('http://127.0.0.1:9/iris.csv')).rejects.toThrow(/fetchIris: cannot fetch http:\/\/127\.0\.0\.1:9\/iris\.csv/);
  });
});
