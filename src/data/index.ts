/** Datasets bundled with kiln, splits, and mini-batch iteration. */
export { loadDigits, loadIris, loadMnist, type LabeledData, type LabeledImages } from './loaders.js';
export { trainTestSplit, permutation, type SplitOptions } from './split.js';
export { DataLoader, type DataLoaderOptions } from './loader.js';
export { dataDir, dataPath } from './paths.js';
