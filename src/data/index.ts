/** Dataset parsers (from bytes or a URL), splits, and mini-batch iteration; file loaders are in `kiln/node`. */
export {
  parseDigits, parseIris, parseMnist, fetchDigits, fetchIris, fetchMnist, gunzip, isGzip,
  type LabeledData, type LabeledImages,
} from './loaders.js';
export { trainTestSplit, permutation, type SplitOptions } from './split.js';
export { DataLoader, type DataLoaderOptions } from './loader.js';
