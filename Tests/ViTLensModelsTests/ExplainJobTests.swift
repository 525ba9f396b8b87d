import Foundation
import Testing
import ViTLens
import ViTLensTestSupport

/// `ExplainJob` on the fixture models: what it writes equals the method applied to the engine's
/// `(A_l, dA_l)` computed directly, the target value equals the gradient result's, targets resolve
/// as documented, and bad targets are one line each.
///
/// "Equals": the same float operations in the same order, bit-identical when the suite runs alone.
/// While other suites call OpenBLAS from other threads its work split (hence summation order) may
/// differ between the two passes, so maps and values are compared within float32 rounding of
/// numbers of order 1 (`Tolerance.attention`, 1e-5).
@Suite struct ExplainJobTests {
    func session(_ name: String) throws -> AnalysisSession { try AnalysisSession(model: Fixtures.url("models/\(name)").path) }
    func photo(_ name: String) -> URL { Fixtures.repositoryRoot.appendingPathComponent("photos/\(name)") }

    func job(_ method: ExplanationMethod, _ target: String) throws -> ExplainJob {
        var job = ExplainJob()
        job.method = method
        job.target = try TargetSpec(parsing: target)
        return job
    }

    /// The method applied to a `GradientRecorder`'s copy of the engine's layers, fed in forward order.
    func direct(_ method: ExplanationMethod, _ recorder: GradientRecorder, layout: TokenLayout,
                options: AttentionGradientAccumulator.Options = .init()) throws -> Explanation {
        let s = recorder.attentions.shape, (layers, heads, n) = (s[0], s[1], s[2])
        var acc = AttentionGradientAccumulator(options)
        try acc.begin(AttentionGeometry(layers: layers, heads: heads, tokens: n, headDim: 1, layout: layout))
        let size = heads * n * n
        for l in 0 ..< layers {
            try recorder.attentions.values[l * size ..< (l + 1) * size].withUnsafeBufferPointer { a in
                try recorder.gradients.values[l * size ..< (l + 1) * size].withUnsafeBufferPointer { g in
                    try acc.consume(layer: l, heads: heads, tokens: n, layout: layout, attention: a, gradient: g)
                }
            }
        }
        try acc.finish()
        let fused = try #require(acc.result)
        let readout = Readout.query(layout.clsIndex != nil ? .cls : .token(0))
        switch method {
        case .gradientRollout: return try GradientRollout.explain(fused, readout: readout)
        case .attentionGradient: return try AttentionGradientLayers.explain(fused, readout: readout)
        default: return try CheferRelevance.explain(fused, readout: readout)
        }
    }

    func expectSame(_ a: Tensor, _ b: Tensor, sourceLocation: SourceLocation = #_sourceLocation) {
        let c = compare(a, b)
        #expect(c.within(.attention), "\(c)", sourceLocation: sourceLocation)
    }

    func expectSame(_ a: Float, _ b: Float, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(abs(a - b) <= Tolerance.attention.absolute, "\(a) != \(b)", sourceLocation: sourceLocation)
    }

    func npy(_ product: AnalysisProduct) throws -> Tensor {
        guard case .array(let t)? = product.content(of: "relevance.npy") else { throw InputError(file: "relevance.npy", problem: "missing") }
        return t
    }

    @Test(arguments: [ExplanationMethod.chefer, .gradientRollout, .attentionGradient])
    func classTargetEqualsEngine(_ method: ExplanationMethod) throws {
        let s = try session("vit-p16-cls")
        let input = try s.image(at: photo("grace_hopper.jpg"), size: (32, 48))
        let product = try job(method, "class:3").run(s, input)
        guard case .image(let prepared) = input.source, let model = s.vision?.model else { Issue.record("not an image"); return }
        var recorder = GradientRecorder()
        let result = try model.gradients(prepared.pixels, target: .classLogit(3), observer: &recorder)
        let expected = try direct(method, recorder, layout: input.layout).map
        let written = try npy(product)
        expectSame(written, expected)
        #expect(written.shape == (method == .attentionGradient ? [model.spec.layers, 2, 3] : [2, 3]))
        #expect(written.values.contains { $0 != 0 })
        guard let metadata = product.json("explain.json") else { Issue.record("no explain.json"); return }
        let json = String(decoding: try AnalysisProduct.encodeJSON(metadata), as: UTF8.self)
        #expect(json.contains("\"class_index\" : 3") && json.contains("\"label\" : \"admiral\"") && json.contains("\"target\" : \"class:3\""))
        #expect(json.contains("\"target_value\" : "))
        expectSame(try job(method, "class:3").explain(s, input).value, result.value)
    }

    @Test func top1AndLabel() throws {
        let s = try session("vit-p16-cls")
        let input = try s.image(at: photo("rocket.jpg"), size: (32, 32))
        let top = try job(.chefer, "top1").explain(s, input)
        guard case .image(let prepared) = input.source, let model = s.vision?.model else { Issue.record("not an image"); return }
        var none = NoObserver()
        let logits = try #require(try model.forward(prepared.pixels, observer: &none).logits).values
        let best = try #require(logits.indices.max { logits[$0] < logits[$1] })
        #expect(top.classIndex == best)
        expectSame(top.value, logits[best])
        let labelled = try job(.chefer, "label:\(model.labels[best] ?? "")").explain(s, input)
        #expect(labelled.classIndex == best && labelled.target == .classLogit(best))
        expectSame(labelled.explanation.map, top.explanation.map)
    }

    @Test func inputGradientEqualsEngine() throws {
        let s = try session("vit-p16-cls")
        let input = try s.image(at: photo("astronaut.png"), size: (32, 32))
        let product = try job(.inputGradient, "class:0").run(s, input)
        guard case .image(let prepared) = input.source, let model = s.vision?.model else { Issue.record("not an image"); return }
        var none = NoGradientObserver()
        let r = try model.gradients(prepared.pixels, target: .classLogit(0), observer: &none)
        let expected = try InputGradient.explain(embeddings: r.embeddings, gradient: r.embeddingGradient, layout: input.layout)
        expectSame(try npy(product), expected.map)
        #expect(try npy(product).shape == [2, 2])
    }

    @Test func similarImageEqualsEngine() throws {
        let s = try session("dinov2-reg")
        let input = try s.image(at: photo("grace_hopper.jpg"), size: (42, 70))
        let result = try job(.attentionGradient, "similar:\(photo("astronaut.png").path)").explain(s, input)
        let other = try s.image(at: photo("astronaut.png"), size: (42, 70))
        var none = NoObserver()
        guard case .vision(let out) = try s.run(other, observer: &none), case .image(let prepared) = input.source,
              let model = s.vision?.model else { Issue.record("not an image"); return }
        let reference = out.pooled?.values ?? Array(out.hiddenState.values.prefix(model.spec.hidden))
        guard case .pooledCosine(let used) = result.target else { Issue.record("\(result.target)"); return }
        expectSame(Tensor(shape: [used.count], values: used), Tensor(shape: [reference.count], values: reference))
        var recorder = GradientRecorder()
        let r = try model.gradients(prepared.pixels, target: .pooledCosine(to: reference), observer: &recorder)
        expectSame(result.value, r.value)
        #expect(abs(result.value) <= 1)
        expectSame(result.explanation.map, try direct(.attentionGradient, recorder, layout: input.layout).map)
        #expect(result.explanation.map.shape == [model.spec.layers, 3, 5])
    }

    @Test func textTargetsEqualEngine() throws {
        let s = try session("bert-tiny")
        let input = try s.sentence("the cat sat on the mat")
        let similar = try job(.chefer, "similar-text:a dog slept").explain(s, input)
        let other = try s.sentence("a dog slept")
        var none = NoObserver()
        guard case .text(let out) = try s.run(other, observer: &none), let e = input.encoding, let model = s.text?.model else {
            Issue.record("not text"); return
        }
        let (n, d) = (out.hiddenState.shape[0], out.hiddenState.shape[1])
        let mean = (0 ..< d).map { c in Float((0 ..< n).reduce(0.0) { $0 + Double(out.hiddenState.values[$1 * d + c]) } / Double(n)) }
        guard case .meanPooledCosine(let used) = similar.target else { Issue.record("\(similar.target)"); return }
        expectSame(Tensor(shape: [used.count], values: used), Tensor(shape: [mean.count], values: mean))
        var recorder = GradientRecorder()
        let r = try model.gradients(ids: e.ids, typeIds: e.typeIds, target: .meanPooledCosine(to: mean), observer: &recorder)
        expectSame(similar.value, r.value)
        expectSame(similar.explanation.map, try direct(.chefer, recorder, layout: input.layout).map)
        #expect(similar.explanation.readout == (try direct(.chefer, recorder, layout: input.layout)).readout)
        let tokens = try job(.gradientRollout, "token:1,2").run(s, input)
        #expect(try npy(tokens).shape == [e.ids.count])
    }

    @Test func parsing() throws {
        #expect(try TargetSpec(parsing: "top1") == .top1)
        #expect(try TargetSpec(parsing: "class:7") == .classIndex(7))
        #expect(try TargetSpec(parsing: "label:tabby cat") == .label("tabby cat"))
        #expect(try TargetSpec(parsing: "similar:a:b.jpg") == .similar(file: "a:b.jpg"))
        #expect(try TargetSpec(parsing: "similar-text:hi, there") == .similarText("hi, there"))
        #expect(try TargetSpec(parsing: "token:3, 4") == .tokens(3, 4))
        for bad in ["top2", "class:x", "class:", "token:1", "token:a,b", "colour:red"] {
            #expect(throws: TargetSpecError.self) { try TargetSpec(parsing: bad) }
        }
        #expect(try TargetSpec(parsing: "label:tabby cat").description == "label:tabby cat")
    }

    @Test func badTargetsAreOneLine() throws {
        let vit = try session("vit-p16-cls"), dino = try session("dinov2"), bert = try session("bert-tiny")
        let image = try vit.image(at: photo("rocket.jpg"), size: (32, 32))
        let dinoImage = try dino.image(at: photo("rocket.jpg"), size: (28, 28))
        let notes = try temporaryFolder("explain").appendingPathComponent("notes.jpg")
        try Data("not an image\n".utf8).write(to: notes)
        let cases: [(AnalysisSession, AnalysisInput, String, String)] = [
            (vit, image, "class:5", "class index 5 is out of range: the model has 5 classes"),
            (vit, image, "label:teapott", "nearest labels: \"teapot\""),
            (vit, image, "similar:\(notes.path)", notes.path),
            (vit, image, "similar-text:hello", "needs a text model"),
            (dino, dinoImage, "class:0", "has no classifier"),
            (dino, dinoImage, "top1", "has no classifier"),
            (dino, dinoImage, "label:cat", "has no classifier"),
            (bert, try bert.sentence("hello world"), "similar:\(photo("rocket.jpg").path)", "needs an image model"),
            (bert, try bert.sentence("hello world"), "token:0,9", "token 9 is out of range"),
        ]
        for (s, input, target, message) in cases {
            do {
                _ = try job(.chefer, target).run(s, input)
                Issue.record("\(target) did not fail")
            } catch {
                let text = "\(error)"
                #expect(text.contains(message), "\(target): \(text)")
                #expect(!text.contains("\n"), "\(target): \(text)")
            }
        }
    }
}

extension AnalysisProduct {
    func json(_ name: String) -> (any Encodable & Sendable)? {
        if case .json(let j)? = content(of: name) { return j }
        return nil
    }
}
