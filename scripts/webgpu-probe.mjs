#!/usr/bin/env node
// Probe the WebGPU implementation provided by the `webgpu` package (dawn.node):
// prints adapter info, features and the limits the kiln WebGPU backend relies on,
// then runs a tiny compute shader as a smoke test.
//
//   node scripts/webgpu-probe.mjs [--json] [dawn option ...]
//
// Exits 0 on success, 1 when no adapter/device is available or the smoke test fails.
// On Linux without a GPU run scripts/setup-webgpu.sh first (Mesa lavapipe).
import { create, globals } from 'webgpu';

const args = process.argv.slice(2);
const asJson = args.includes('--json');
const dawnOptions = args.filter((a) => a !== '--json');

const KEY_LIMITS = [
  'maxStorageBuffersPerShaderStage',
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupSizeX',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupStorageSize',
  'maxComputeWorkgroupsPerDimension',
  'maxBindGroups',
  'maxUniformBufferBindingSize',
  'minStorageBufferOffsetAlignment',
];
const KEY_FEATURES = ['subgroups', 'shader-f16', 'timestamp-query'];

// Never hang CI: dawn.node can keep the event loop alive.
const watchdog = setTimeout(() => {
  console.error('webgpu-probe: timed out after 60 s');
  process.exit(2);
}, 60_000);
watchdog.unref();

function fail(msg) {
  console.error(`webgpu-probe: ${msg}`);
  if (process.platform === 'linux') {
    console.error('webgpu-probe: on Linux without a GPU run scripts/setup-webgpu.sh (Mesa lavapipe >= 24).');
  }
  process.exit(1);
}

Object.assign(globalThis, globals);
const gpu = create(dawnOptions);

let adapter;
try {
  adapter = await gpu.requestAdapter();
} catch (e) {
  fail(`requestAdapter threw: ${e?.message ?? e}`);
}
if (!adapter) fail('no WebGPU adapter available');

const info = adapter.info ?? {};
const adapterInfo = {};
for (const k of ['vendor', 'architecture', 'device', 'description', 'subgroupMinSize', 'subgroupMaxSize', 'isFallbackAdapter']) {
  if (info[k] !== undefined) adapterInfo[k] = info[k];
}
const features = [...adapter.features].sort();
const limits = {};
for (const k of KEY_LIMITS) limits[k] = adapter.limits[k];

// Request the optional features we care about when present, and the adapter's maxima
// for the key limits, so the device reflects what the backend could actually use.
const requiredFeatures = KEY_FEATURES.filter((f) => adapter.features.has(f));
let device;
try {
  device = await adapter.requestDevice({ requiredFeatures, requiredLimits: limits });
} catch (e) {
  fail(`requestDevice threw: ${e?.message ?? e}`);
}
if (!device) fail('requestDevice returned nothing');

// Smoke test: y = x * 2 + 1 over a few elements.
let smoke = 'fail';
try {
  const n = 1024;
  const src = new Float32Array(n).map((_, i) => i - 512);
  const inBuf = device.createBuffer({ size: n * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
  const outBuf = device.createBuffer({ size: n * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
  const readBuf = device.createBuffer({ size: n * 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(inBuf, 0, src);
  const module = device.createShaderModule({
    code: `
      @group(0) @binding(0) var<storage, read> x: array<f32>;
      @group(0) @binding(1) var<storage, read_write> y: array<f32>;
      @compute @workgroup_size(64) fn main(@builtin(global_invocation_id) id: vec3u) {
        if (id.x < arrayLength(&x)) { y[id.x] = x[id.x] * 2.0 + 1.0; }
      }`,
  });
  device.pushErrorScope('validation');
  const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
  const bind = device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: [{ binding: 0, resource: { buffer: inBuf } }, { binding: 1, resource: { buffer: outBuf } }],
  });
  const enc = device.createCommandEncoder();
  const pass = enc.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, bind);
  pass.dispatchWorkgroups(n / 64);
  pass.end();
  enc.copyBufferToBuffer(outBuf, 0, readBuf, 0, n * 4);
  device.queue.submit([enc.finish()]);
  const err = await device.popErrorScope();
  if (err) throw new Error(err.message);
  await readBuf.mapAsync(GPUMapMode.READ);
  const out = new Float32Array(readBuf.getMappedRange().slice(0));
  readBuf.unmap();
  const bad = out.findIndex((v, i) => v !== src[i] * 2 + 1);
  smoke = bad < 0 ? 'ok' : `wrong result at ${bad}: ${out[bad]} != ${src[bad] * 2 + 1}`;
} catch (e) {
  smoke = `error: ${e?.message ?? e}`;
}

const result = {
  adapter: adapterInfo,
  keyFeatures: Object.fromEntries(KEY_FEATURES.map((f) => [f, adapter.features.has(f)])),
  features,
  limits,
  smokeTest: smoke,
};

if (asJson) {
  console.log(JSON.stringify(result, null, 2));
} else {
  console.log('adapter:');
  for (const [k, v] of Object.entries(adapterInfo)) console.log(`  ${k}: ${v}`);
  console.log('key features:');
  for (const [k, v] of Object.entries(result.keyFeatures)) console.log(`  ${k}: ${v ? 'yes' : 'no'}`);
  console.log(`all features: ${features.join(', ')}`);
  console.log('limits:');
  for (const [k, v] of Object.entries(limits)) console.log(`  ${k}: ${v}`);
  console.log(`smoke test (compute + readback): ${smoke}`);
}

device.destroy();
// dawn.node keeps the process alive while the GPU object exists; exit explicitly.
process.exit(smoke === 'ok' ? 0 : 1);
