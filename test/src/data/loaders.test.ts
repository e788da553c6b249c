import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ValueError, data, type Tensor } from '../../../src/node.js';

/** Samples per class, from the counts listed in data/README.md. */
function classCounts(labels: Tensor, classes: number): number[] {
  const counts = new Array<number>(classes).fill(0);
  for (const v of labels.data()) counts[v]!++;
  return counts;
}

function range(t: Tensor): [number, number] {
  return [t.min().item(), t.max().item()];
}

/** An IDX file: big-endian magic and dims, then unsigned bytes. */
function idx(magic: number, dims: number[], bytes: number[]): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header.writeUInt32BE(magic, 0);
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, Buffer.from(bytes)]);
}

describe('loadDigits', () => {
  const { features, labels } = data.loadDigits();

  it('has 1797 samples of 64 pixel counts in 0..16 and int32 labels', () => {
    expect(features.shape).toEqual([1797, 64]);
    expect(features.dtype).toBe('float32');
    expect(labels.shape).toEqual([1797]);
    expect(labels.dtype).toBe('int32');
    expect(range(features)).toEqual([0, 16]);
    expect(features.data().every((v) => Number.isInteger(v))).toBe(true);
  });

  it('has the class counts of data/README.md', () => {
    expect(classCounts(labels, 10)).toEqual([178, 182, 177, 183, 181, 182, 181, 179, 174, 180]);
  });

  it('reads the first row as written in the file', () => {
    // optdigits.tes row 1 is a 0 whose top-left pixels are 0,0,5,13,9,1,0,0.
    expect(Array.from(features.narrow(0, 0, 1).data().subarray(0, 8))).toEqual([0, 0, 5, 13, 9, 1, 0, 0]);
    expect(labels.narrow(0, 0, 1).item()).toBe(0);
  });
});

describe('loadIris', () => {
  const { features, labels, classNames } = data.loadIris();

  it('reads the header as metadata: 150 samples, 4 features, 3 class names', () => {
    expect(features.shape).toEqual([150, 4]);
    expect(labels.shape).toEqual([150]);
    expect(labels.dtype).toBe('int32');
    expect(classNames).toEqual(['setosa', 'versicolor', 'virginica']);
  });

  it('has 50 samples of each class, sorted by class, and measurements in cm', () => {
    expect(classCounts(labels, 3)).toEqual([50, 50, 50]);
    expect(Array.from(labels.data())).toEqual([...new Array(50).fill(0), ...new Array(50).fill(1), ...new Array(50).fill(2)]);
    const [lo, hi] = range(features);
    expect(lo).toBeCloseTo(0.1, 5);
    expect(hi).toBeCloseTo(7.9, 5);
    // Sample 1 of Fisher's data: 5.1, 3.5, 1.4, 0.2.
    expect(Array.from(features.narrow(0, 0, 1).data())).toEqual([5.1, 3.5, 1.4, 0.2].map(Math.fround));
  });
});

describe('loadMnist', () => {
  const { images, labels } = data.loadMnist();

  it('has 10000 images of 28x28 scaled to [0, 1] and int32 labels', () => {
    expect(images.shape).toEqual([10000, 28, 28]);
    expect(images.dtype).toBe('float32');
    expect(labels.shape).toEqual([10000]);
    expect(labels.dtype).toBe('int32');
    expect(range(images)).toEqual([0, 1]);
  });

  it('has the class counts of data/README.md', () => {
    expect(classCounts(labels, 10)).toEqual([980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
  });

  it('starts with the well-known first test labels 7, 2, 1, 0, 4', () => {
    expect(Array.from(labels.narrow(0, 0, 5).data())).toEqual([7, 2, 1, 0, 4]);
  });
});

describe('loadMnist on other files', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'kiln-idx-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const write = (name: string, bytes: Uint8Array): string => {
    const path = join(dir, name);
    writeFileSync(path, bytes);
    return path;
  };

  it('reads plain and gzipped IDX files and scales bytes by 1/255', () => {
    const imgs = write('imgs.idx', idx(2051, [2, 2, 3], [0, 51, 102, 153, 204, 255, 255, 0, 0, 0, 0, 255]));
    const labs = write('labs.idx.gz', gzipSync(idx(2049, [2], [3, 9])));
    const { images, labels } = data.loadMnist(imgs, labs);
    expect(images.shape).toEqual([2, 2, 3]);
    expect(Array.from(images.data())).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1, 1, 0, 0, 0, 0, 1].map(Math.fround));
    expect(Array.from(labels.data())).toEqual([3, 9]);
  });

  it('rejects a wrong magic number, naming the file and both numbers', () => {
    const bad = write('bad-magic.gz', gzipSync(idx(0x12345678, [1, 1, 1], [0])));
    const labs = write('one-label', idx(2049, [1], [0]));
    expect(() => data.loadMnist(bad, labs)).toThrow(ValueError);
    expect(() => data.loadMnist(bad, labs)).toThrow(/bad-magic\.gz is not an IDX images file: magic number 305419896 \(0x12345678\), expected 2051/);
  });

  it('rejects a labels file given as images and the other way round', () => {
    const imgs = write('imgs2', idx(2051, [1, 1, 1], [0]));
    const labs = write('labs2', idx(2049, [1], [0]));
    expect(() => data.loadMnist(labs, labs)).toThrow(/magic number 2049 .*expected 2051/);
    expect(() => data.loadMnist(imgs, imgs)).toThrow(/magic number 2051 .*expected 2049/);
  });

  it('rejects truncated data, mismatched counts and out-of-range labels', () => {
    const imgs = write('imgs3', idx(2051, [2, 2, 2], [1, 2, 3, 4, 5, 6, 7, 8]));
    const short = write('short', idx(2051, [2, 2, 2], [1, 2, 3]));
    const oneLabel = write('one', idx(2049, [1], [0]));
    const twoLabels = write('two', idx(2049, [2], [0, 1]));
    const badLabel = write('badlab', idx(2049, [2], [0, 10]));
    expect(() => data.loadMnist(short, twoLabels)).toThrow(/3 data bytes, but its header \[2,2,2\] needs 8/);
    expect(() => data.loadMnist(imgs, oneLabel)).toThrow(/holds 2 images but .* holds 1 labels/);
    expect(() => data.loadMnist(imgs, badLabel)).toThrow(/label 1 has label 10, expected an integer in 0..9/);
    expect(() => data.loadMnist(write('tiny', new Uint8Array([0, 0])), twoLabels)).toThrow(/too short to be an IDX file/);
  });

  it('says which file is missing', () => {
    expect(() => data.loadMnist(join(dir, 'nope.gz'))).toThrow(/loadMnist: cannot read .*nope\.gz/);
  });

  it('rejects malformed CSV rows with the line number', () => {
    const csv = write('digits.csv', new TextEncoder().encode(`${new Array(65).fill(1).join(',')}\n1,2,3\n`));
    expect(() => data.loadDigits(csv)).toThrow(/line 2 has 3 columns, expected 65/);
    const iris = write('iris.csv', new TextEncoder().encode('2,4,a,b\n1,2,3,4,0\n'));
    expect(() => data.loadIris(iris)).toThrow(/declares 2 samples in its header but has 1 rows/);
  });
});
