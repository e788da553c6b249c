/**
 * Building ONNX graphs with the ONNX schema's generated message types (onnx-buf, on
 * @bufbuild/protobuf): one `OnnxBuilder` per ONNX graph (the model's, or a Loop body), each
 * handing out unique value names and appending nodes in order.
 */
import { create } from '@bufbuild/protobuf';
import {
  AttributeProtoSchema,
  AttributeProto_AttributeType,
  GraphProtoSchema,
  NodeProtoSchema,
  TensorProtoSchema,
  TensorProto_DataType,
  TensorShapeProtoSchema,
  TensorShapeProto_DimensionSchema,
  TypeProtoSchema,
  TypeProto_TensorSchema,
  ValueInfoProtoSchema,
  type AttributeProto,
  type GraphProto,
  type NodeProto,
  type TensorProto,
  type ValueInfoProto,
} from 'onnx-buf';
import type { DType } from '../../../runtime/dtype.js';
import { floatToHalf } from '../../../runtime/half.js';

/** ONNX element types of kiln's dtypes. */
export const ONNX_TYPE: Record<DType, TensorProto_DataType> = {
  float16: TensorProto_DataType.FLOAT16,
  float32: TensorProto_DataType.FLOAT,
  float64: TensorProto_DataType.DOUBLE,
  int32: TensorProto_DataType.INT32,
  uint8: TensorProto_DataType.UINT8,
  bool: TensorProto_DataType.BOOL,
};

/** An attribute value: an INT, INTS, STRING or GRAPH attribute. */
export type AttrValue =
  | { int: number }
  | { ints: readonly number[] }
  | { string: string }
  | { graph: GraphProto };

function attribute(name: string, v: AttrValue): AttributeProto {
  if ('int' in v)
    return create(AttributeProtoSchema, { name, type: AttributeProto_AttributeType.INT, i: BigInt(v.int) });
  if ('ints' in v)
    return create(AttributeProtoSchema, { name, type: AttributeProto_AttributeType.INTS, ints: v.ints.map(BigInt) });
  if ('string' in v)
    return create(AttributeProtoSchema, {
      name,
      type: AttributeProto_AttributeType.STRING,
      s: new TextEncoder().encode(v.string),
    });
  return create(AttributeProtoSchema, { name, type: AttributeProto_AttributeType.GRAPH, g: v.graph });
}

/** A typed value declaration (graph inputs and outputs). */
export function valueInfo(name: string, dtype: DType | 'int64', shape: readonly number[]): ValueInfoProto {
  const elemType = dtype === 'int64' ? TensorProto_DataType.INT64 : ONNX_TYPE[dtype];
  const dims = shape.map((d) =>
    create(TensorShapeProto_DimensionSchema, { value: { case: 'dimValue', value: BigInt(d) } }),
  );
  return create(ValueInfoProtoSchema, {
    name,
    type: create(TypeProtoSchema, {
      value: {
        case: 'tensorType',
        value: create(TypeProto_TensorSchema, { elemType, shape: create(TensorShapeProtoSchema, { dim: dims }) }),
      },
    }),
  });
}

/** A tensor with its elements as little-endian raw bytes, as ONNX stores them. */
export function tensorProto(
  name: string,
  dtype: DType | 'int64',
  shape: readonly number[],
  values: ArrayLike<number>,
): TensorProto {
  let raw: Uint8Array<ArrayBuffer>;
  switch (dtype) {
    case 'float32':
      raw = new Uint8Array(Float32Array.from(values).buffer);
      break;
    case 'float64':
      raw = new Uint8Array(Float64Array.from(values).buffer);
      break;
    case 'float16':
      raw = new Uint8Array(Uint16Array.from(values, floatToHalf).buffer);
      break;
    case 'int32':
      raw = new Uint8Array(Int32Array.from(values).buffer);
      break;
    case 'int64':
      raw = new Uint8Array(BigInt64Array.from(Array.from(values, (x) => BigInt(x))).buffer);
      break;
    case 'uint8':
      raw = Uint8Array.from(values);
      break;
    case 'bool':
      raw = Uint8Array.from(values, (x) => (x !== 0 ? 1 : 0));
      break;
    default: {
      const never: never = dtype;
      throw new Error(`internal: dtype ${String(never)}`);
    }
  }
  // Typed arrays are little-endian on every platform kiln runs on (x86, ARM, WebAssembly).
  const dataType = dtype === 'int64' ? TensorProto_DataType.INT64 : ONNX_TYPE[dtype];
  return create(TensorProtoSchema, { name, dims: shape.map(BigInt), dataType, rawData: raw });
}

/** Appends nodes to one ONNX graph. Names are unique across the model (`prefix` tells graphs apart). */
export class OnnxBuilder {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  readonly inputs: ValueInfoProto[] = [];
  readonly outputs: ValueInfoProto[] = [];
  #count = 0;

  constructor(readonly prefix: string) {}

  /** A fresh value name. */
  fresh(hint: string): string {
    return `${this.prefix}${hint}_${this.#count++}`;
  }

  /** Appends `op(inputs)` with attributes; returns its output names (`outputs` of them, or the given names). */
  nodeN(
    op: string,
    inputs: readonly string[],
    attrs: Record<string, AttrValue> = {},
    outputs: number | readonly string[] = 1,
  ): string[] {
    const names = typeof outputs === 'number' ? Array.from({ length: outputs }, () => this.fresh(op)) : outputs.slice();
    this.nodes.push(
      create(NodeProtoSchema, {
        opType: op,
        name: this.fresh(`node_${op}`),
        input: inputs.slice(),
        output: names,
        attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
      }),
    );
    return names;
  }

  /** Appends a node of one output; returns its name. */
  node(op: string, inputs: readonly string[], attrs: Record<string, AttrValue> = {}, output?: string): string {
    return this.nodeN(op, inputs, attrs, output === undefined ? 1 : [output])[0]!;
  }

  /** A constant as a Constant node (valid inside Loop bodies too, where initializers are not for every runtime). */
  constant(dtype: DType | 'int64', shape: readonly number[], values: ArrayLike<number>): string {
    const name = this.fresh('const');
    this.nodes.push(
      create(NodeProtoSchema, {
        opType: 'Constant',
        name: this.fresh('node_Constant'),
        output: [name],
        attribute: [
          create(AttributeProtoSchema, {
            name: 'value',
            type: AttributeProto_AttributeType.TENSOR,
            t: tensorProto(`${name}_value`, dtype, shape, values),
          }),
        ],
      }),
    );
    return name;
  }

  /** A one-dimensional int64 constant (shapes, axes, perms). */
  ints(values: readonly number[]): string {
    return this.constant('int64', [values.length], values);
  }

  /** A scalar constant of `dtype`. */
  scalar(dtype: DType, value: number): string {
    return this.constant(dtype, [], [value]);
  }

  /** The finished graph. */
  graph(name: string): GraphProto {
    return create(GraphProtoSchema, {
      name,
      node: this.nodes,
      initializer: this.initializers,
      input: this.inputs,
      output: this.outputs,
    });
  }
}
