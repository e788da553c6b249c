/** Layers, losses and the Module base. */
export { Module, parameter, isParameter } from './module.js';
export { Linear, Sequential, ReLU, GELU, SiLU, Tanh, Sigmoid, Flatten, Dropout, LayerNorm, Embedding, type Layer } from './layers.js';
export { Conv2d, MaxPool2d, AvgPool2d, conv2d, maxPool2d, avgPool2d, type Size2, type Conv2dOptions, type Pool2dOptions } from './conv.js';
export { BatchNorm1d, BatchNorm2d, batchNorm, type BatchNormOptions } from './batchnorm.js';
export { linear, dropout, layerNorm, crossEntropy, nllLoss, mseLoss, binaryCrossEntropyWithLogits, type Reduction } from './functional.js';
export { serializeSafetensors, deserializeSafetensors } from './safetensors.js';
export * as init from './init.js';
