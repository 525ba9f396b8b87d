import Testing
import ViTLensAnalysis
import ViTLensCore
import ViTLensTestSupport

/// Properties that hold whatever the model, and the refusals of bad input (one-line errors).
@Suite("Explanation invariants")
struct ExplanationInvariantTests {
    static func zeroGradients(_ f: ExplanationFixture) throws -> FusedAttentionGradients {
        let zero = ExplanationFixture(copying: f, gradients: Tensor(zeros: f.gradients.shape))
        return try zero.accumulate()
    }

    @Test("With all gradients zero, Chefer and gradient rollout read out the identity", arguments: ExplanationFixture.cases)
    func zeroGradient(_ name: String) throws {
        let f = try ExplanationFixture(name)
        let fused = try Self.zeroGradients(f)
        for readoutName in f.meta.readouts.keys {
            let readout = try f.readout(readoutName)
            // uᵀ I = u: one-hot on the readout token (a prefix token for images, so the patch map is
            // all zeros), or 1/G on every patch for the mean of patches.
            let n = f.meta.shape.tokens, p = f.layout.prefixCount
            var u = [Float](repeating: 0, count: n)
            if readout == .meanOfPatches { for i in p ..< n { u[i] = 1 / Float(n - p) } } else { u[0] = 1 }
            for e in [try CheferRelevance.explain(fused, readout: readout), try GradientRollout.explain(fused, readout: readout)] {
                #expect(e.rows[0].row == u, "\(name) \(e.method) \(readoutName)")
            }
            #expect(try AttentionGradientLayers.explain(fused, readout: readout).map.values.allSatisfy { $0 == 0 })
        }
    }

    @Test("NaN or infinity in attention, gradient or embeddings is refused in one line")
    func nonFinite() throws {
        let f = try ExplanationFixture(ExplanationFixture.cases[0])
        var a = f.attentions
        a.values[7] = .nan
        var g = f.gradients
        g.values[3] = .infinity
        for (bad, what) in [(ExplanationFixture(copying: f, attentions: a), "attention of layer 0"),
                            (ExplanationFixture(copying: f, gradients: g), "attention gradient of layer 0")] {
            let error = #expect(throws: AnalysisError.self) { _ = try bad.accumulate() }
            #expect(error?.description.hasPrefix(what) == true, "\(String(describing: error))")
            #expect(error?.description.contains("\n") == false)
        }
        var e = f.embeddings
        e.values[5] = -.infinity
        let error = #expect(throws: AnalysisError.self) {
            _ = try InputGradient.explain(embeddings: e, gradient: f.embeddingGradients, layout: f.layout)
        }
        #expect(error == .nonFinite(what: "embeddings", index: 5, value: "-inf"))
    }

    @Test("Head, token, size and layer mismatches are refused")
    func mismatches() throws {
        let f = try ExplanationFixture(ExplanationFixture.cases[1])
        let s = f.meta.shape
        let a = [Float](repeating: 0.1, count: s.heads * s.tokens * s.tokens)
        func consume(layer: Int = 0, heads: Int? = nil, tokens: Int? = nil, count: Int? = nil, layout: TokenLayout? = nil) throws {
            var acc = AttentionGradientAccumulator()
            try acc.begin(f.geometry)
            let buffer = Array(a.prefix(count ?? a.count))
            try buffer.withUnsafeBufferPointer { b in
                try acc.consume(layer: layer, heads: heads ?? s.heads, tokens: tokens ?? s.tokens, layout: layout ?? f.layout, attention: b, gradient: b)
            }
        }
        try consume()
        for (label, bad) in [
            ("heads", { try consume(heads: s.heads + 1) }),
            ("tokens", { try consume(tokens: s.tokens - 1) }),
            ("size", { try consume(count: a.count - 1) }),
            ("layout", { try consume(layout: TokenLayout(textTokens: s.tokens)) }),
        ] as [(String, () throws -> Void)] {
            let error = #expect(throws: AnalysisError.self, "\(label)") { try bad() }
            guard case .geometryMismatch = error else {
                Issue.record("\(label): \(String(describing: error))")
                continue
            }
        }
        #expect(throws: AnalysisError.layerOutOfRange(layer: s.layers, layers: s.layers)) { try consume(layer: s.layers) }
        var wrongGeometry = f.geometry
        wrongGeometry.tokens += 1
        var acc = AttentionGradientAccumulator()
        #expect(throws: AnalysisError.self) { try acc.begin(wrongGeometry) }
        let unbegun = #expect(throws: AnalysisError.self) {
            try a.withUnsafeBufferPointer { b in
                try acc.consume(layer: 0, heads: s.heads, tokens: s.tokens, layout: f.layout, attention: b, gradient: b)
            }
        }
        #expect(unbegun?.description.contains("begin()") == true)
    }

    @Test("Fused matrices given by hand are checked: count, size, finiteness")
    func handMadeFused() throws {
        let layout = TokenLayout(prefix: [.cls], grid: PatchGrid(rows: 1, columns: 2, patchSize: 16))
        let ok = [Float](repeating: 0.1, count: 9)
        #expect(try FusedAttentionGradients(layout: layout, layers: 0 ... 1, fusion: .positiveThenMean, matrices: [ok, ok]).tokens == 3)
        #expect(throws: AnalysisError.self) { _ = try FusedAttentionGradients(layout: layout, layers: 0 ... 1, fusion: .positiveThenMean, matrices: [ok]) }
        #expect(throws: AnalysisError.self) { _ = try FusedAttentionGradients(layout: layout, layers: 0 ... 0, fusion: .positiveThenMean, matrices: [Array(ok.dropLast())]) }
        var bad = ok
        bad[4] = .nan
        #expect(throws: AnalysisError.nonFinite(what: "fused attention gradient of layer 3", index: 4, value: "NaN")) {
            _ = try FusedAttentionGradients(layout: layout, layers: 3 ... 3, fusion: .positiveThenMean, matrices: [bad])
        }
        // By hand: one layer with Ā = 0.1 everywhere: Chefer's CLS row = e_0 + 0.1·(1, 1, 1).
        let one = try FusedAttentionGradients(layout: layout, layers: 0 ... 0, fusion: .positiveThenMean, matrices: [ok])
        let row = try CheferRelevance.explain(one).rows[0].row
        #expect(row.enumerated().allSatisfy { abs($0.element - ($0.offset == 0 ? 1.1 : 0.1)) < 1e-6 })
        // Gradient rollout: rownorm(I + Ā) = (I + 0.1)/1.3, so the CLS row is (1.1, 0.1, 0.1)/1.3.
        let rollout = try GradientRollout.explain(one).rows[0].row
        #expect(rollout.enumerated().allSatisfy { abs($0.element - ($0.offset == 0 ? 1.1 : 0.1) / 1.3) < 1e-6 })
    }

    @Test("Each layer arrives once; missing layers are named")
    func duplicatesAndMissing() throws {
        let f = try ExplanationFixture(ExplanationFixture.cases[0])
        #expect(throws: AnalysisError.duplicateLayer(analysis: "attention gradients", layer: 1)) {
            _ = try f.accumulate(order: [1, 0, 1])
        }
        let error = #expect(throws: AnalysisError.self) { _ = try f.accumulate(order: [1]) }
        #expect(error == .missingLayers(analysis: "attention gradients", layers: [0]))
        #expect(error?.description == "attention gradients: layer(s) 0 never arrived")
    }

    @Test("The input x gradient capture needs the embeddings exactly once")
    func inputCaptureRefusals() throws {
        let f = try ExplanationFixture(ExplanationFixture.cases[2])
        var capture = InputGradientCapture()
        try capture.begin(f.geometry)
        let finishError = #expect(throws: AnalysisError.self) { try capture.finish() }
        #expect(finishError == .noLayersObserved(analysis: "input x gradient (embeddings)"))
        var twice = InputGradientCapture()
        try f.feed(&twice)
        #expect(twice.result != nil)
        let e = f.embeddings.values
        try twice.begin(f.geometry)
        try e.withUnsafeBufferPointer { b in
            try twice.consumeEmbeddings(tokens: f.meta.shape.tokens, width: f.meta.shape.width, layout: f.layout, embeddings: b, gradient: b)
            let again = #expect(throws: AnalysisError.self) {
                try twice.consumeEmbeddings(tokens: f.meta.shape.tokens, width: f.meta.shape.width, layout: f.layout, embeddings: b, gradient: b)
            }
            #expect(again?.description.contains("once per pass") == true)
            #expect(throws: AnalysisError.self) {
                try InputGradientCapture().consumeEmbeddingsOnce(tokens: f.meta.shape.tokens - 1, width: f.meta.shape.width, layout: f.layout, buffer: b)
            }
        }
    }

    @Test("A layer range keeps only its layers; memory is layers x N² floats")
    func layerRangeAndMemory() throws {
        let f = try ExplanationFixture(ExplanationFixture.cases[0])
        let all = try f.accumulate()
        let last = try f.accumulate(.init(firstLayer: -1), order: [1, 0])
        #expect(last.layers == 1 ... 1)
        #expect(last.matrices == [all.matrices[1]])
        let n = f.meta.shape.tokens
        #expect(AttentionGradientAccumulator().estimatedBytes(for: f.geometry) == f.meta.shape.layers * n * n * 4)
        #expect(AttentionGradientAccumulator(.init(firstLayer: -1)).estimatedBytes(for: f.geometry) == n * n * 4)
        // ViT-B/16 at 224 px and DINO ViT-S/8 at 480 px (the numbers in the type's documentation).
        let vitB = AttentionGeometry(layers: 12, heads: 12, tokens: 197, headDim: 64, layout: TokenLayout(prefix: [.cls], grid: PatchGrid(rows: 14, columns: 14, patchSize: 16)))
        #expect(AttentionGradientAccumulator().estimatedBytes(for: vitB) == 1_862_832)
        let dinoS8 = AttentionGeometry(layers: 12, heads: 6, tokens: 3601, headDim: 64, layout: TokenLayout(prefix: [.cls], grid: PatchGrid(rows: 60, columns: 60, patchSize: 8)))
        #expect(AttentionGradientAccumulator().estimatedBytes(for: dinoS8) == 622_425_648)
    }

    @Test("A CLS readout on a text layout is refused; token 0 works")
    func textReadout() throws {
        let f = try ExplanationFixture("bert-tiny-animal")
        let fused = try f.accumulate()
        #expect(throws: AnalysisError.noCLSToken(layout: f.layout.description)) { _ = try CheferRelevance.explain(fused, readout: .cls) }
        #expect(try CheferRelevance.explain(fused, readout: .query(.token(0))).map.shape == [f.meta.shape.tokens])
    }
}

extension InputGradientCapture {
    /// One `consumeEmbeddings` call on a copy (for refusal checks).
    func consumeEmbeddingsOnce(tokens: Int, width: Int, layout: TokenLayout, buffer: UnsafeBufferPointer<Float>) throws {
        var copy = self
        try copy.consumeEmbeddings(tokens: tokens, width: width, layout: layout, embeddings: buffer, gradient: buffer)
    }
}
