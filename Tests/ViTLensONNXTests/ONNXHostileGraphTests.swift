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
