import Foundation
import ViTLensCore

/// An ONNX model read from its protobuf file (`ModelProto`): the graph plus its provenance.
///
/// The reader is a small hand-written protobuf wire-format decoder that keeps only what ViTLens
/// needs (nodes, attributes, initializers, graph inputs and outputs, opsets). The file is memory
/// mapped and initializer bytes stay in the mapping until read (see ``ONNXTensor``).
public struct ONNXModel: Sendable {
    /// The file the model was read from (used in error messages).
    public var file: String
    /// `ir_version`.
    public var irVersion: Int64
    /// `producer_name`, e.g. `pytorch`.
    public var producerName: String
    /// `producer_version`, e.g. `2.7.0`.
    public var producerVersion: String
    /// Operator sets the model uses, in file order (`""` is the default ONNX domain).
    public var opsetImports: [ONNXOpsetImport]
    /// Key-value metadata (`metadata_props`).
    public var metadata: [String: String]
    /// The main graph.
    public var graph: ONNXGraph

    /// Reads an `.onnx` file, memory-mapped.
    /// - Throws: ``ONNXError/fileNotFound(file:)``, ``ONNXError/truncated(file:offset:)`` or
    ///   ``ONNXError/malformed(file:reason:)``.
    public init(contentsOf url: URL) throws {
        let file = url.path
        let data: Data
        do { data = try UserFile.read(file, mapped: true) } catch {
            throw error == .noSuchFile ? ONNXError.fileNotFound(file: file) : ONNXError.unreadableFile(file: file, problem: error)
        }
        try self.init(data: data, file: file)
    }

    /// Decodes `ModelProto` bytes; `file` names the source in error messages.
    /// - Throws: ``ONNXError/truncated(file:offset:)`` or ``ONNXError/malformed(file:reason:)``.
    public init(data: Data, file: String) throws {
        self = try ONNXDecoder.decodeModel(data, file: file)
    }

    fileprivate init(file: String, irVersion: Int64, producerName: String, producerVersion: String,
                     opsetImports: [ONNXOpsetImport], metadata: [String: String], graph: ONNXGraph) {
        self.file = file
        self.irVersion = irVersion
        self.producerName = producerName
        self.producerVersion = producerVersion
        self.opsetImports = opsetImports
        self.metadata = metadata
        self.graph = graph
    }
}

/// One operator set a model imports (`OperatorSetIdProto`).
public struct ONNXOpsetImport: Sendable, Equatable {
    /// The domain; `""` (or `ai.onnx`) is the default ONNX operator set.
    public var domain: String
    /// The operator set version.
    public var version: Int64
}

/// A computation graph (`GraphProto`): nodes in topological order, named initializers, and the
/// graph's inputs and outputs.
public struct ONNXGraph: Sendable {
    /// The graph's name.
    public var name: String
    /// Nodes, in file order (topologically sorted in a valid model).
    public var nodes: [ONNXNode]
    /// Initializers (constant tensors, usually the weights) by name.
    public var initializers: [String: ONNXTensor]
    /// Initializer names in file order.
    public var initializerNames: [String]
    /// Number of `sparse_initializer` entries (not decoded; the importer refuses them).
    public var sparseInitializerCount: Int
    /// Graph inputs as declared (older models also list their initializers here).
    public var inputs: [ONNXValueInfo]
    /// Graph outputs.
    public var outputs: [ONNXValueInfo]
    /// The default-domain operator set version of the model (0 when none is declared).
    public var opset: Int64

    /// Graph inputs that are fed at run time (declared inputs that are not initializers).
    public var runtimeInputs: [ONNXValueInfo] { inputs.filter { initializers[$0.name] == nil } }
}

/// One operator application (`NodeProto`).
public struct ONNXNode: Sendable {
    /// The node's name; exporters write the module path, e.g.
    /// `/backbone/encoder/layer.0/attention/attention/key/MatMul`.
    public var name: String
    /// The operator, e.g. `MatMul`.
    public var opType: String
    /// The operator's domain (`""` for the default ONNX operators).
    public var domain: String
    /// Input value names in order; `""` marks an omitted optional input.
    public var inputs: [String]
    /// Output value names in order.
    public var outputs: [String]
    /// Attributes in file order.
    public var attributes: [ONNXAttribute]

    /// The attribute with this name, if present.
    public func attribute(_ name: String) -> ONNXAttribute? { attributes.first { $0.name == name } }
    /// An `INT` attribute.
    public func int(_ name: String) -> Int64? {
        if case .int(let v)? = attribute(name)?.value { return v }
        return nil
    }
    /// An `INTS` attribute.
    public func ints(_ name: String) -> [Int64]? {
        if case .ints(let v)? = attribute(name)?.value { return v }
        return nil
    }
    /// A `FLOAT` attribute.
    public func float(_ name: String) -> Float? {
        if case .float(let v)? = attribute(name)?.value { return v }
        return nil
    }
    /// A `FLOATS` attribute.
    public func floats(_ name: String) -> [Float]? {
        if case .floats(let v)? = attribute(name)?.value { return v }
        return nil
    }
    /// A `STRING` attribute decoded as UTF-8.
    public func string(_ name: String) -> String? {
        if case .string(let v)? = attribute(name)?.value { return String(decoding: v, as: UTF8.self) }
        return nil
    }
    /// A `TENSOR` attribute (e.g. a `Constant` node's `value`).
    public func tensor(_ name: String) -> ONNXTensor? {
        if case .tensor(let v)? = attribute(name)?.value { return v }
        return nil
    }
}

/// A named node attribute (`AttributeProto`).
public struct ONNXAttribute: Sendable {
    /// The attribute's name.
    public var name: String
    /// Its value.
    public var value: Value

    /// An attribute value; kinds ViTLens does not read are kept as `.other` with the ONNX type code.
    public enum Value: Sendable {
        case float(Float)
        case int(Int64)
        case string(Data)
        case tensor(ONNXTensor)
        case floats([Float])
        case ints([Int64])
        case strings([Data])
        /// A subgraph (`If`, `Loop`, `Scan` bodies), not decoded.
        case graph
        /// Any other kind (`AttributeProto.AttributeType` code).
        case other(type: Int32)
    }
}

/// A graph input or output (`ValueInfoProto`) with its element type and shape where given.
public struct ONNXValueInfo: Sendable, Equatable {
    /// The value's name.
    public var name: String
    /// The tensor element type, nil when not a tensor or not given.
    public var elementType: ONNXDataType?
    /// The shape, nil when not given.
    public var shape: [ONNXDimension]?
}

/// One dimension of a declared shape.
public enum ONNXDimension: Sendable, Equatable, CustomStringConvertible {
    /// A fixed size.
    case fixed(Int)
    /// A named, dynamic size (e.g. `batch_size`).
    case symbolic(String)
    /// Neither given.
    case unknown

    /// The fixed size, if any.
    public var value: Int? {
        if case .fixed(let v) = self { return v }
        return nil
    }

    public var description: String {
        switch self {
        case .fixed(let v): return String(v)
        case .symbolic(let s): return s
        case .unknown: return "?"
        }
    }
}

/// Decodes ONNX protobuf messages into the public types.
enum ONNXDecoder {
    static func decodeModel(_ data: Data, file: String) throws -> ONNXModel {
        try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) throws -> ONNXModel in
            guard let base = raw.baseAddress, raw.count > 0 else {
                throw ONNXError.malformed(file: file, reason: "empty file")
            }
            // Slices of `data` share its (mapped) storage; offsets are relative to `data.startIndex`.
            let context = Context(data: data, file: file)
            var r = ProtobufReader(base: base, bufferEnd: raw.count, range: 0 ..< raw.count, file: file)
            var ir: Int64 = 0
            var producer = "", producerVersion = ""
            var opsets: [ONNXOpsetImport] = []
            var metadata: [String: String] = [:]
            var graphRange: Range<Int>?
            while let (field, wire) = try r.readKey() {
                switch field {
                case 1: try r.expect(wire, .varint); ir = Int64(bitPattern: try r.readVarint())
                case 2: try r.expect(wire, .lengthDelimited); producer = try r.readString()
                case 3: try r.expect(wire, .lengthDelimited); producerVersion = try r.readString()
                case 7: try r.expect(wire, .lengthDelimited); graphRange = try r.readLengthDelimited()
                case 8:
                    try r.expect(wire, .lengthDelimited)
                    var sub = r.subReader(try r.readLengthDelimited())
                    var op = ONNXOpsetImport(domain: "", version: 0)
                    while let (f, w) = try sub.readKey() {
                        switch f {
                        case 1: try sub.expect(w, .lengthDelimited); op.domain = try sub.readString()
                        case 2: try sub.expect(w, .varint); op.version = Int64(bitPattern: try sub.readVarint())
                        default: try sub.skip(w)
                        }
                    }
                    opsets.append(op)
                case 14:
                    try r.expect(wire, .lengthDelimited)
                    let (k, v) = try decodeStringPair(r.subReader(try r.readLengthDelimited()))
                    metadata[k] = v
                default: try r.skip(wire)
                }
            }
            guard let graphRange else { throw ONNXError.malformed(file: file, reason: "the model has no graph") }
            let opset = opsets.first { $0.domain == "" || $0.domain == "ai.onnx" }?.version ?? 0
            let graph = try decodeGraph(r.subReader(graphRange), context: context, opset: opset)
            return ONNXModel(file: file, irVersion: ir, producerName: producer, producerVersion: producerVersion,
                             opsetImports: opsets, metadata: metadata, graph: graph)
        }
    }

    /// What tensor decoding needs to slice `raw_data` out of the file without copying.
    struct Context {
        var data: Data
        var file: String
        func slice(_ r: Range<Int>) -> Data { data[(data.startIndex + r.lowerBound) ..< (data.startIndex + r.upperBound)] }
    }

    static func decodeStringPair(_ reader: ProtobufReader) throws -> (String, String) {
        var r = reader
        var key = "", value = ""
        while let (f, w) = try r.readKey() {
            switch f {
            case 1: try r.expect(w, .lengthDelimited); key = try r.readString()
            case 2: try r.expect(w, .lengthDelimited); value = try r.readString()
            default: try r.skip(w)
            }
        }
        return (key, value)
    }

    static func decodeGraph(_ reader: ProtobufReader, context: Context, opset: Int64) throws -> ONNXGraph {
        var r = reader
        var graph = ONNXGraph(name: "", nodes: [], initializers: [:], initializerNames: [], sparseInitializerCount: 0,
                              inputs: [], outputs: [], opset: opset)
        while let (field, wire) = try r.readKey() {
            switch field {
            case 1:
                try r.expect(wire, .lengthDelimited)
                graph.nodes.append(try decodeNode(r.subReader(try r.readLengthDelimited()), context: context))
            case 2: try r.expect(wire, .lengthDelimited); graph.name = try r.readString()
            case 5:
                try r.expect(wire, .lengthDelimited)
                let t = try decodeTensor(r.subReader(try r.readLengthDelimited()), context: context)
                if graph.initializers[t.name] == nil { graph.initializerNames.append(t.name) }
                graph.initializers[t.name] = t
            case 15: try r.expect(wire, .lengthDelimited); _ = try r.readLengthDelimited(); graph.sparseInitializerCount += 1
            case 11:
                try r.expect(wire, .lengthDelimited)
                graph.inputs.append(try decodeValueInfo(r.subReader(try r.readLengthDelimited())))
            case 12:
                try r.expect(wire, .lengthDelimited)
                graph.outputs.append(try decodeValueInfo(r.subReader(try r.readLengthDelimited())))
            default: try r.skip(wire)
            }
        }
        return graph
    }

    static func decodeNode(_ reader: ProtobufReader, context: Context) throws -> ONNXNode {
        var r = reader
        var node = ONNXNode(name: "", opType: "", domain: "", inputs: [], outputs: [], attributes: [])
        while let (field, wire) = try r.readKey() {
            switch field {
            case 1: try r.expect(wire, .lengthDelimited); node.inputs.append(try r.readString())
            case 2: try r.expect(wire, .lengthDelimited); node.outputs.append(try r.readString())
            case 3: try r.expect(wire, .lengthDelimited); node.name = try r.readString()
            case 4: try r.expect(wire, .lengthDelimited); node.opType = try r.readString()
            case 7: try r.expect(wire, .lengthDelimited); node.domain = try r.readString()
            case 5:
                try r.expect(wire, .lengthDelimited)
                node.attributes.append(try decodeAttribute(r.subReader(try r.readLengthDelimited()), context: context))
            default: try r.skip(wire)
            }
        }
        return node
    }

    static func decodeAttribute(_ reader: ProtobufReader, context: Context) throws -> ONNXAttribute {
        var r = reader
        var name = ""
        var type: Int32?
        var f: Float?, i: Int64?, s: Data?, t: ONNXTensor?
        var hasGraph = false
        var floats: [UInt32] = [], ints: [UInt64] = [], strings: [Data] = []
        var otherKind: Int32?
        while let (field, wire) = try r.readKey() {
            switch field {
            case 1: try r.expect(wire, .lengthDelimited); name = try r.readString()
            case 20: try r.expect(wire, .varint); type = Int32(truncatingIfNeeded: try r.readVarint())
            case 2: try r.expect(wire, .fixed32); f = Float(bitPattern: try r.readFixed32())
            case 3: try r.expect(wire, .varint); i = Int64(bitPattern: try r.readVarint())
            case 4: try r.expect(wire, .lengthDelimited); s = context.slice(try r.readLengthDelimited())
            case 5: try r.expect(wire, .lengthDelimited); t = try decodeTensor(r.subReader(try r.readLengthDelimited()), context: context)
            case 6: try r.expect(wire, .lengthDelimited); _ = try r.readLengthDelimited(); hasGraph = true
            case 7: try r.readFixed32s(wire, into: &floats)
            case 8: try r.readVarints(wire, into: &ints)
            case 9: try r.expect(wire, .lengthDelimited); strings.append(context.slice(try r.readLengthDelimited()))
            case 10, 11, 14, 15, 22, 23:
                try r.skip(wire)
                otherKind = otherKind ?? [10: 9, 11: 10, 14: 13, 15: 14, 22: 11, 23: 12][field]
            default: try r.skip(wire)
            }
        }
        // `type` is the discriminator; very old models omit it, so fall back to the field present.
        let kind = type ?? {
            if f != nil { return 1 }
            if i != nil { return 2 }
            if s != nil { return 3 }
            if t != nil { return 4 }
            if hasGraph { return 5 }
            if !floats.isEmpty { return 6 }
            if !ints.isEmpty { return 7 }
            if !strings.isEmpty { return 8 }
            return otherKind ?? 0
        }()
        let value: ONNXAttribute.Value
        switch kind {
        case 1: value = .float(f ?? 0)
        case 2: value = .int(i ?? 0)
        case 3: value = .string(s ?? Data())
        case 4:
            guard let t else { throw ONNXError.malformed(file: context.file, reason: "tensor attribute '\(name)' has no tensor") }
            value = .tensor(t)
        case 5: value = .graph
        case 6: value = .floats(floats.map { Float(bitPattern: $0) })
        case 7: value = .ints(ints.map { Int64(bitPattern: $0) })
        case 8: value = .strings(strings)
        default: value = .other(type: kind)
        }
        return ONNXAttribute(name: name, value: value)
    }

    static func decodeTensor(_ reader: ProtobufReader, context: Context) throws -> ONNXTensor {
        var r = reader
        let start = r.offset
        var dims: [UInt64] = []
        var dataType: Int32 = 0
        var name = ""
        var raw: Range<Int>?
        var floats: [UInt32] = [], int32s: [UInt64] = [], int64s: [UInt64] = [], doubles: [UInt64] = [], uint64s: [UInt64] = []
        var external: [(String, String)] = []
        var location: UInt64 = 0
        var hasSegment = false
        while let (field, wire) = try r.readKey() {
            switch field {
            case 1: try r.readVarints(wire, into: &dims)
            case 2: try r.expect(wire, .varint); dataType = Int32(truncatingIfNeeded: try r.readVarint())
            case 3: try r.skip(wire); hasSegment = true
            case 4: try r.readFixed32s(wire, into: &floats)
            case 5: try r.readVarints(wire, into: &int32s)
            case 7: try r.readVarints(wire, into: &int64s)
            case 8: try r.expect(wire, .lengthDelimited); name = try r.readString()
            case 9: try r.expect(wire, .lengthDelimited); raw = try r.readLengthDelimited()
            case 10: try r.readFixed64s(wire, into: &doubles)
            case 11: try r.readVarints(wire, into: &uint64s)
            case 13:
                try r.expect(wire, .lengthDelimited)
                external.append(try decodeStringPair(r.subReader(try r.readLengthDelimited())))
            case 14: try r.expect(wire, .varint); location = try r.readVarint()
            default: try r.skip(wire)
            }
        }
        var shape: [Int] = []
        var count = 1
        for d in dims {
            // dims are int64 >= 0; a negative value arrives as a huge unsigned varint.
            guard d <= UInt64(Int32.max) else {
                throw ONNXError.malformed(file: context.file, reason: "tensor '\(name)' (byte \(start)) has invalid dimension \(Int64(bitPattern: d))")
            }
            let (c, overflow) = count.multipliedReportingOverflow(by: Int(d))
            guard !overflow, c <= Int(Int32.max) * 64 else {
                throw ONNXError.malformed(file: context.file, reason: "tensor '\(name)' (byte \(start)) has too many elements: dims \(dims)")
            }
            count = c
            shape.append(Int(d))
        }
        if hasSegment {
            throw ONNXError.malformed(file: context.file, reason: "tensor '\(name)' is a segment of a larger tensor, which ONNX models do not use")
        }
        let storage: ONNXTensor.Storage
        if location == 1 || !external.isEmpty {
            storage = .external(location: external.first { $0.0 == "location" }?.1 ?? "?")
        } else if let raw {
            storage = .raw(context.slice(raw))
        } else if !floats.isEmpty {
            storage = .floats(floats.map { Float(bitPattern: $0) })
        } else if !int32s.isEmpty {
            storage = .int32s(int32s.map { Int32(truncatingIfNeeded: $0) })
        } else if !int64s.isEmpty {
            storage = .int64s(int64s.map { Int64(bitPattern: $0) })
        } else if !doubles.isEmpty {
            storage = .doubles(doubles.map { Double(bitPattern: $0) })
        } else if !uint64s.isEmpty {
            storage = .uint64s(uint64s)
        } else {
            storage = .empty
        }
        return ONNXTensor(name: name, dims: shape, dataType: ONNXDataType(rawValue: dataType), storage: storage, file: context.file)
    }

    static func decodeValueInfo(_ reader: ProtobufReader) throws -> ONNXValueInfo {
        var r = reader
        var info = ONNXValueInfo(name: "", elementType: nil, shape: nil)
        while let (field, wire) = try r.readKey() {
            switch field {
            case 1: try r.expect(wire, .lengthDelimited); info.name = try r.readString()
            case 2:
                try r.expect(wire, .lengthDelimited)
                var type = r.subReader(try r.readLengthDelimited())
                while let (f, w) = try type.readKey() {
                    guard f == 1 else { try type.skip(w); continue }  // tensor_type
                    try type.expect(w, .lengthDelimited)
                    var tensor = type.subReader(try type.readLengthDelimited())
                    while let (tf, tw) = try tensor.readKey() {
                        switch tf {
                        case 1: try tensor.expect(tw, .varint); info.elementType = ONNXDataType(rawValue: Int32(truncatingIfNeeded: try tensor.readVarint()))
                        case 2:
                            try tensor.expect(tw, .lengthDelimited)
                            info.shape = try decodeShape(tensor.subReader(try tensor.readLengthDelimited()))
                        default: try tensor.skip(tw)
                        }
                    }
                }
            default: try r.skip(wire)
            }
        }
        return info
    }

    static func decodeShape(_ reader: ProtobufReader) throws -> [ONNXDimension] {
        var r = reader
        var dims: [ONNXDimension] = []
        while let (field, wire) = try r.readKey() {
            guard field == 1 else { try r.skip(wire); continue }
            try r.expect(wire, .lengthDelimited)
            var d = r.subReader(try r.readLengthDelimited())
            var dim = ONNXDimension.unknown
            while let (f, w) = try d.readKey() {
                switch f {
                case 1:
                    try d.expect(w, .varint)
                    let v = Int64(bitPattern: try d.readVarint())
                    dim = v >= 0 && v <= Int64(Int32.max) ? .fixed(Int(v)) : .unknown
                case 2: try d.expect(w, .lengthDelimited); dim = .symbolic(try d.readString())
                default: try d.skip(w)
                }
            }
            dims.append(dim)
        }
        return dims
    }
}
