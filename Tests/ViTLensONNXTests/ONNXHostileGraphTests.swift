import Foundation
import Testing
@testable import ViTLensONNX

/// Graphs a hostile file may describe: arithmetic on sizes taken from the file is checked, and the
/// constant folding of shape vectors is bounded in time and memory.
@Suite struct ONNXHostileGraphTests {
    @Test func reshapeHeadCountWithOverflowingEntriesIsNotTrapped() {
        // [.., 2^32, 2^32]: the product overflows Int64 and trapped before.
        #expect(BackboneAnalyzer.headsFromReshape(1 << 32, 1 << 32, hidden: 64) == nil)
        #expect(BackboneAnalyzer.headsFromReshape(Int64.max, 2, hidden: 64) == nil)
        // The shapes exporters write still give the head count.
        #expect(BackboneAnalyzer.headsFromReshape(4, 16, hidden: 64) == 4)
        #expect(BackboneAnalyzer.headsFromReshape(4, -1, hidden: 64) == 4)
        #expect(BackboneAnalyzer.headsFromReshape(nil, 16, hidden: 64) == 4)
        #expect(BackboneAnalyzer.headsFromReshape(3, 16, hidden: 64) == nil)
    }

    @Test func scaleConstantBeyondIntIsNotTrapped() {
        // Div by 1e38 gives head_dim 1e76, which Int() trapped on.
        #expect(BackboneAnalyzer.headsFromHeadDim(1e76, hidden: 64) == nil)
        #expect(BackboneAnalyzer.headsFromHeadDim(.infinity, hidden: 64) == nil)
        #expect(BackboneAnalyzer.headsFromHeadDim(16.0004, hidden: 64) == 4)
        #expect(BackboneAnalyzer.headsFromHeadDim(128, hidden: 64) == nil)
    }

    static func graph(nodes: [ONNXNode], initializers: [ONNXTensor] = []) -> ONNXGraph {
        ONNXGraph(name: "g", nodes: nodes, initializers: Dictionary(uniqueKeysWithValues: initializers.map { ($0.name, $0) }),
                  initializerNames: initializers.map(\.name), sparseInitializerCount: 0, inputs: [], outputs: [], opset: 17)
    }

    @Test func fanningConcatsAreBoundedNotExponential() {
        // v0 = Concat(v1 x 1000), v1 = Concat(v2 x 1000), ... v7 = Concat(k x 1000): 1000^8 visits unbounded.
        var nodes: [ONNXNode] = []
        for level in 0 ..< 8 {
            let input = level == 7 ? "k" : "v\(level + 1)"
            nodes.append(ONNXNode(name: "c\(level)", opType: "Concat", domain: "", inputs: Array(repeating: input, count: 1000),
                                  outputs: ["v\(level)"], attributes: []))
        }
        let k = ONNXTensor(name: "k", dims: [0], dataType: .int64, storage: .int64s([]), file: "t.onnx")
        let index = GraphIndex(Self.graph(nodes: nodes, initializers: [k]))
        let start = ContinuousClock.now
        #expect(index.shapeVector("v0") == nil)
        #expect(ContinuousClock.now - start < .seconds(1))
    }

    @Test func longConstantsAreNotShapeVectors() {
        let long = ONNXTensor(name: "long", dims: [100], dataType: .int64, storage: .int64s(Array(0 ..< 100)), file: "t.onnx")
        let shape = ONNXTensor(name: "shape", dims: [4], dataType: .int64, storage: .int64s([1, -1, 4, 16]), file: "t.onnx")
        let concat = ONNXNode(name: "c", opType: "Concat", domain: "", inputs: Array(repeating: "shape", count: 20),
                              outputs: ["big"], attributes: [])
        let index = GraphIndex(Self.graph(nodes: [concat], initializers: [long, shape]))
        #expect(index.shapeVector("long") == nil)
        #expect(index.shapeVector("shape") == [1, -1, 4, 16])
        #expect(index.shapeVector("big") == nil)  // 80 entries
    }
}

/// Tensor sizes in hostile protobuf bytes: refused before any allocation they would imply.
@Suite struct ONNXHostileTensorTests {
    static func varint(_ v: UInt64) -> [UInt8] {
        var v = v, out: [UInt8] = []
        while v >= 0x80 { out.append(UInt8(v & 0x7f) | 0x80); v >>= 7 }
        return out + [UInt8(v)]
    }
    static func field(_ number: UInt64, _ payload: [UInt8]) -> [UInt8] { varint(number << 3 | 2) + varint(UInt64(payload.count)) + payload }
    static func varintField(_ number: UInt64, _ v: UInt64) -> [UInt8] { varint(number << 3) + varint(v) }

    /// A model whose graph holds one FLOAT initializer `w` with `dims` and `raw` bytes.
    static func model(dims: [UInt64], raw: [UInt8]) -> Data {
        let tensor = dims.flatMap { varintField(1, $0) } + varintField(2, 1) + field(8, Array("w".utf8)) + field(9, raw)
        return Data(field(7, field(5, tensor)))
    }

    @Test func elementCountBeyondTheLimitIsMalformed() {
        let data = Self.model(dims: [2_147_483_647, 2_147_483_647], raw: [])
        #expect(throws: ONNXError.malformed(file: "m.onnx", reason: "tensor 'w' (byte 4) has too many elements: dims [2147483647, 2147483647]")) {
            try ONNXModel(data: data, file: "m.onnx")
        }
    }

    @Test func negativeDimensionIsMalformed() {
        let data = Self.model(dims: [UInt64(bitPattern: -1)], raw: [])
        #expect(throws: ONNXError.malformed(file: "m.onnx", reason: "tensor 'w' (byte 4) has invalid dimension -1")) {
            try ONNXModel(data: data, file: "m.onnx")
        }
    }

    @Test func hugeDimsWithFewBytesAreRefusedBeforeAllocating() throws {
        // 10^9 floats claimed, 4 bytes stored: the byte count is compared before any buffer is made.
        let model = try ONNXModel(data: Self.model(dims: [1_000_000_000], raw: [0, 0, 128, 63]), file: "m.onnx")
        let tensor = try #require(model.graph.initializers["w"])
        #expect(throws: ONNXError.malformed(file: "m.onnx", reason: "tensor 'w' has 4 bytes of raw_data, dims [1000000000] of FLOAT need 4000000000")) {
            try tensor.floatValues()
        }
    }
}
