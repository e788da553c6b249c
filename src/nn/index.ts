/** Layers, losses and the Module base. */
export { Module, parameter, isParameter } from './module.js';
export { Linear, Sequential, ReLU, GELU, SiLU, Tanh, Sigmoid, Flatten, Dropout, LayerNorm, Embedding, type Layer } from './layers.js';
export { Conv2d, MaxPool2d, AvgPool2d, conv2d, maxPool2d, avgPool2d, type Size2, type Conv2dOptions, type Pool2dOptions } from './conv.js';
export { BatchNorm1d, BatchNorm2d, batchNorm, type BatchNormOptions } from './batchnorm.js';
export { linear, dropout, layerNorm, crossEntropy, nllLoss, mseLoss, binaryCrossEntropyWithLogits, type Reduction } from './functional.js';
export { serializeSafetensors, deserializeSafetensors } from './safetensors.js';
export * as init from './init.js';
export { Identity, ModuleList, ModuleDict } from './containers.js';
export {
  scaledDotProductAttention, MultiheadAttention, type AttentionOptions, type MultiheadOutput, type MultiheadForwardOptions,
} from './attention.js';
export { leakyRelu, softplus, elu, mish, hardswish, LeakyReLU, Softplus, ELU, Mish, Hardswish } from './activations.js';
export { l1Loss, smoothL1Loss, huberLoss, klDiv } from './losses.js';
export {
  conv1d, convTranspose2d, groupNorm, Conv1d, ConvTranspose2d, GroupNorm, type Conv1dOptions, type ConvTranspose2dOptions,
} from './conv-more.js';
export { LSTMCell, GRUCell, LSTM, GRU, type RecurrentOptions } from './recurrent.js';
export { clipGradNorm, clipGradValue } from './clip.js';
