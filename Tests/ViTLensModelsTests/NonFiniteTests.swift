import Foundation
import Testing
import ViTLens
import ViTLensTestSupport

/// No silent NaN: invalid `layer_norm_eps`, non-finite weights and forward passes that overflow are
/// one-line errors naming the file, the weight or the layer and head.
@Suite struct NonFiniteModelTests {
    /// The error `load` (then a forward on the fixture pixels) throws, as text.
    static func failure(_ dir: URL, forward: Bool = false) -> String {
        do {
            let model = try ModelLoader.load(try ModelFiles(directory: dir))
            guard forward else { return "loaded" }
            switch model {
            case .vision(let v):
                _ = try v.forward(try fixtureTensor("cases/vit-p16-hopper-native/pixel_values.npy"))
            case .text(let t):
                var none = NoObserver()
                _ = try t.forward(ids: [2, 5, 7, 3], observer: &none)
            }
            return "ran"
        } catch {
            return "\(error)"
        }
    }

    /// Edits `layer_norm_eps` as JSON text in a copy of `model` and returns the load error.
    static func loadWithEps(_ model: String, _ eps: String) throws -> (config: String, message: String) {
        let copy = try FixtureModelCopy(model)
        defer { copy.remove() }
        try copy.setJSON("config.json", "layer_norm_eps", eps)
        return (copy.file("config.json").path, Self.failure(copy.url))
    }

    @Test(arguments: [("vit-p16-cls", "-1e-06"), ("bert-tiny", "-1.0"), ("dinov2", "-1.0"), ("clip-vision", "-0.5"),
                      ("deit-distilled", "1e-50"), ("vit-p16-cls", "1e+39")])
    func layerNormEpsMustBePositive(_ model: String, _ eps: String) throws {
        let (config, message) = try Self.loadWithEps(model, eps)
        #expect(message.hasPrefix("\(config): invalid config: 'layer_norm_eps' must be a finite positive number"), "\(message)")
    }

    /// Zero, written either way, is refused by the same rule (and checked on the spec directly).
    @Test(arguments: [("vit-p16-cls", "0.0"), ("bert-tiny", "0"), ("dinov2", "0"), ("clip-vision", "0.0")])
    func layerNormEpsZeroIsRefused(_ model: String, _ zero: String) throws {
        let (config, message) = try Self.loadWithEps(model, zero)
        #expect(message == "\(config): invalid config: 'layer_norm_eps' must be a finite positive number (as a 32-bit float), got 0.0")
        for eps: Float in [0, -0.0, -1, .infinity, .nan] {
            let spec = EncoderSpec(hidden: 8, heads: 2, layers: 1, eps: eps, activation: .gelu, norm: .pre, feedForward: .mlp(intermediate: 16))
            #expect(throws: ModelError.configInvalid(file: "c.json", reason: "'layer_norm_eps' must be a finite positive number (as a 32-bit float), got \(eps)")) {
                try spec.validate(file: "c.json")
            }
        }
    }

    @Test(arguments: [(Float.nan, "NaN"), (Float.infinity, "inf"), (-Float.infinity, "-inf")])
    func nonFiniteWeightIsRefusedAtLoad(_ bad: Float, _ reads: String) throws {
        let key = "vit.encoder.layer.1.intermediate.dense.weight"
        let copy = try FixtureModelCopy("vit-p16-cls")
        defer { copy.remove() }
        try copy.editWeights { $0[key]?.values[37] = bad }
        let message = Self.failure(copy.url)
        #expect(message == "\(copy.file("model.safetensors").path): weight '\(key)' holds \(reads) at index 37; the checkpoint is corrupt (every weight must be finite)")
    }

    /// Layers load in parallel; with bad weights in two layers the error is still the first layer's,
    /// as a load in layer order would report (whichever thread finishes first).
    @Test func theFirstBadLayerIsReportedWhenSeveralAre() throws {
        let first = "vit.encoder.layer.0.output.dense.weight"
        let copy = try FixtureModelCopy("vit-p16-cls")
        defer { copy.remove() }
        try copy.editWeights {
            $0["vit.encoder.layer.1.attention.attention.query.weight"]?.values[3] = .nan
            $0[first]?.values[5] = .infinity
        }
        for _ in 0 ..< 5 {
            #expect(Self.failure(copy.url) == "\(copy.file("model.safetensors").path): weight '\(first)' holds inf at index 5; the checkpoint is corrupt (every weight must be finite)")
        }
    }

    @Test func overflowingLayerNormStopsTheForwardAtTheLayerAndHead() throws {
        let copy = try FixtureModelCopy("vit-p16-cls")
        defer { copy.remove() }
        try copy.mapWeight("vit.encoder.layer.1.layernorm_before.weight") { $0 * 1e30 }
        let message = Self.failure(copy.url, forward: true)
        #expect(message.hasPrefix("\(copy.file("model.safetensors").path): the forward pass overflowed to NaN/inf in layer 1 head "), "\(message)")
        #expect(message.contains("attention scores (query token "), "\(message)")
    }

    @Test func overflowingMLPStopsTheForwardAtTheLayerOutput() throws {
        let copy = try FixtureModelCopy("vit-p16-cls")
        defer { copy.remove() }
        // Every weight and the bias at 3e38: the branch sum exceeds Float.greatestFiniteMagnitude.
        for k in ["vit.encoder.layer.0.output.dense.weight", "vit.encoder.layer.0.output.dense.bias"] {
            try copy.mapWeight(k) { _ in 3e38 }
        }
        let message = Self.failure(copy.url, forward: true)
        #expect(message.contains("overflowed to NaN/inf in the output of layer 0, token "), "\(message)")
    }

    @Test func overflowingTextModelNamesTheLayer() throws {
        let copy = try FixtureModelCopy("bert-tiny")
        defer { copy.remove() }
        for k in ["encoder.layer.0.attention.self.query.weight", "encoder.layer.0.attention.self.key.weight"] {
            try copy.mapWeight(k) { $0 * 1e30 }
        }
        let message = Self.failure(copy.url, forward: true)
        #expect(message.contains("overflowed to NaN/inf in layer 0 head "), "\(message)")
    }

    @Test func validModelsStillRun() throws {
        let copy = try FixtureModelCopy("vit-p16-cls")
        defer { copy.remove() }
        try copy.editWeights { _ in }
        #expect(Self.failure(copy.url, forward: true) == "ran")
    }
}
