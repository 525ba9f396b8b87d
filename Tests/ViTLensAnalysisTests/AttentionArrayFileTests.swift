import Foundation
import Testing
import ViTLensTestSupport
import ViTLensAnalysis
import ViTLensCore

@Suite struct AttentionArrayFileTests {
    let layout = TokenLayout(prefix: [.cls], grid: PatchGrid(rows: 1, columns: 2, patchSize: 16))

    private func write(_ values: [Float], shape: [Int], name: String) throws -> URL {
        let url = try temporaryFolder("analysis").appendingPathComponent(name)
        try NPY.writeData(NPY.encode(float32: values, shape: shape), to: url)
        return url
    }

    private var valid: [Float] { [0.5, 0.25, 0.25, 0.1, 0.8, 0.1, 0, 0, 1] }

    @Test func loadsAndReplaysTheFixture() throws {
        let ref = try AnalysisReference.model("deit_distilled")
        let file = try ref.file()
        #expect(file.layers == 2 && file.heads == 3 && file.tokens == 18)
        #expect(file.geometry.layout == ref.layout && file.name.hasSuffix("deit_distilled_attentions.npy"))
        var recorder = AttentionRecorder()
        try file.replay(into: &recorder)
        #expect(recorder.layersSeen == 2 && recorder.attentions == file.attentions)
    }

    @Test func layoutFromCommandLineValues() throws {
        let l = try AttentionArrayFile.layout(prefixTokens: 3, rows: 3, columns: 5, patchSize: 14)
        #expect(l.prefix == [.cls, .register, .register] && l.tokenCount == 18 && l.grid?.columns == 5)
        #expect(try AttentionArrayFile.layout(prefixTokens: 0, rows: 2, columns: 2, patchSize: 8).clsIndex == nil)
        #expect(throws: AnalysisError.invalidLayout("prefix token count -1 is negative")) {
            try AttentionArrayFile.layout(prefixTokens: -1, rows: 2, columns: 2, patchSize: 8)
        }
        #expect(throws: AnalysisError.self) { try AttentionArrayFile.layout(prefixTokens: 1, rows: 0, columns: 2, patchSize: 8) }
    }

    @Test func rejectsWrongShapes() throws {
        let rank3 = try write(valid, shape: [1, 3, 3], name: "rank3.npy")
        #expect(throws: AnalysisError.shapeMismatch(file: rank3.path, shape: [1, 3, 3], expected: "[layers, heads, 3, 3] for \(layout)")) {
            try AttentionArrayFile(contentsOf: rank3, layout: layout)
        }
        let other = TokenLayout(prefix: [.cls, .register], grid: PatchGrid(rows: 1, columns: 2, patchSize: 16))
        let url = try write(valid, shape: [1, 1, 3, 3], name: "ok.npy")
        #expect(throws: AnalysisError.shapeMismatch(file: url.path, shape: [1, 1, 3, 3], expected: "[layers, heads, 4, 4] for \(other)")) {
            try AttentionArrayFile(contentsOf: url, layout: other)
        }
        let notSquare = try write(valid, shape: [1, 1, 9, 1], name: "notsquare.npy")
        #expect(throws: AnalysisError.shapeMismatch(file: notSquare.path, shape: [1, 1, 9, 1], expected: "[layers, heads, 3, 3] for \(layout)")) {
            try AttentionArrayFile(contentsOf: notSquare, layout: layout)
        }
        let twoLayers = try write(valid + valid, shape: [2, 1, 3, 3], name: "two.npy")
        #expect(try AttentionArrayFile(contentsOf: twoLayers, layout: layout).layers == 2)
        let ints = try temporaryFolder("analysis").appendingPathComponent("ints.npy")
        try NPY.writeData(NPY.encode(int64: [1, 0, 0, 0, 1, 0, 0, 0, 1], shape: [1, 1, 3, 3]), to: ints)
        #expect(throws: AnalysisError.unsupportedDType(file: ints.path, dtype: "<i8")) { try AttentionArrayFile(contentsOf: ints, layout: layout) }
        let missing = URL(fileURLWithPath: "/nonexistent/attn.npy")
        #expect(throws: NPYError.fileNotFound(file: missing.path)) { try AttentionArrayFile(contentsOf: missing, layout: layout) }
    }

    @Test func rejectsNonProbabilities() throws {
        var nan = valid
        nan[4] = .nan
        let nanURL = try write(nan, shape: [1, 1, 3, 3], name: "nan.npy")
        let e1 = #expect(throws: AnalysisError.self) { try AttentionArrayFile(contentsOf: nanURL, layout: layout) }
        #expect("\(e1!)" == "\(nanURL.path): layer 0, head 0, row 1, column 1 holds nan, not a probability (finite and >= 0)")

        var negative = valid + valid
        negative[9 + 7] = -0.5
        negative[9 + 8] = 1.5
        let negURL = try write(negative, shape: [1, 2, 3, 3], name: "neg.npy")
        #expect(throws: AnalysisError.invalidProbability(file: negURL.path, layer: 0, head: 1, row: 2, column: 1, value: -0.5)) {
            try AttentionArrayFile(contentsOf: negURL, layout: layout)
        }

        var unnormalised = valid + valid
        unnormalised[9 + 3] = 0.2  // layer 1, row 1 sums to 1.1
        let sumURL = try write(unnormalised, shape: [2, 1, 3, 3], name: "sum.npy")
        let e2 = #expect(throws: AnalysisError.self) { try AttentionArrayFile(contentsOf: sumURL, layout: layout) }
        guard case .rowSumNotOne(let f, 1, 0, 1, let s, let tol) = e2 else {
            Issue.record("wrong error \(String(describing: e2))")
            return
        }
        #expect(f == sumURL.path && abs(s - 1.1) < 1e-6 && tol == 1e-3)
        #expect("\(e2!)".hasPrefix("\(sumURL.path): layer 1, head 0, row 1 sums to 1.1"))

        // Within the tolerance is fine.
        var close = valid
        close[0] += 0.0005
        #expect(throws: Never.self) { try AttentionArrayFile(contentsOf: write(close, shape: [1, 1, 3, 3], name: "close.npy"), layout: layout) }
    }

    @Test func errorMessagesAreOneLine() {
        let errors: [AnalysisError] = [
            .discardRatioOutOfRange(1), .thresholdOutOfRange(0), .layerOutOfRange(layer: 12, layers: 12),
            .emptyLayerRange(first: 3, last: 1), .headOutOfRange(head: 6, heads: 6), .tokenOutOfRange(token: 9, tokens: 9),
            .patchOutsideGrid(row: 3, column: 0, grid: PatchGrid(rows: 3, columns: 5, patchSize: 14)),
            .patchQueryWithoutGrid(row: 0, column: 0), .noCLSToken(layout: "x"), .needsPatchGrid(analysis: "mad"),
            .geometryMismatch(analysis: "mad", expected: "a", found: "b"), .noLayersObserved(analysis: "rollout"),
            .flowTooLarge(tokens: 198, layers: 12, readoutRows: 1, maxWork: 1), .invalidLayout("x"),
            .shapeMismatch(file: "a.npy", shape: [1], expected: "y"), .unsupportedDType(file: "a.npy", dtype: "<i8"),
            .invalidProbability(file: "a.npy", layer: 0, head: 0, row: 0, column: 0, value: -1),
            .rowSumNotOne(file: "a.npy", layer: 0, head: 0, row: 0, sum: 2, tolerance: 1e-3),
        ]
        for e in errors {
            #expect(!e.description.contains("\n") && !e.description.isEmpty)
        }
        #expect(AnalysisError.layerOutOfRange(layer: 12, layers: 12).description.contains("12 layers"))
    }
}
