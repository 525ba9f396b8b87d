import Foundation
import Testing
import ViTLens
import ViTLensTestSupport

/// No silent NaN: invalid `layer_norm_eps`, non-finite weights and forward passes that overflow are
/// one-line errors naming the file, the weight or the layer and head.
@Suite struct NonFiniteModelTests {
    /// A copy of fixture model `name` in a fresh folder, with `config` and `weights` edited.
    static func copy(_ name: String, config: (inout [String: Any]) -> Void = { _ in },
                     weights: (inout [String: Tensor]) -> Void = { _ in }) throws -> URL {
        let src = Fixtures.url("models/\(name)")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vitlens-nonfinite-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for f in try FileManager.default.contentsOfDirectory(atPath: src.path) where f != "model.safetensors" && f != "config.json" {
            try FileManager.default.copyItem(at: src.appendingPathComponent(f), to: dir.appendingPathComponent(f))
        }
        var json = try JSONSerialization.jsonObject(with: Data(contentsOf: src.appendingPathComponent("config.json"))) as? [String: Any] ?? [:]
        config(&json)
        try JSONSerialization.data(withJSONObject: json).write(to: dir.appendingPathComponent("config.json"))
        let file = try SafeTensorsFile(contentsOf: src.appendingPathComponent("model.safetensors"))
        var tensors: [String: Tensor] = [:]
        for n in file.names { tensors[n] = try file.tensor(n) }
        weights(&tensors)
        try SafeTensorsWriter.write(tensors, to: dir.appendingPathComponent("model.safetensors"))
        return dir
    }

    /// Applies `f` to every value of weight `key`.
    static func map(_ weights: inout [String: Tensor], _ key: String, _ f: (Float) -> Float) {
        guard var t = weights[key] else { return }
        t.values = t.values.map(f)
        weights[key] = t
    }

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
        let dir = try Self.copy(model)
        defer { try? FileManager.default.removeItem(at: dir) }
        let config = dir.appendingPathComponent("config.json")
        let text = try String(contentsOf: config, encoding: .utf8)
        let edited = text.replacingOccurrences(of: #""layer_norm_eps":[^,}]*"#, with: "\"layer_norm_eps\":\(eps)", options: .regularExpression)
        #expect(edited != text)
        try edited.write(to: config, atomically: true, encoding: .utf8)
        return (config.path, Self.failure(dir))
    }

    @Test(arguments: [("vit-p16-cls", "-1e-06"), ("bert-tiny", "-1.0"), ("dinov2", "-1.0"), ("clip-vision", "-0.5"),
                      ("deit-distilled", "1e-50"), ("vit-p16-cls", "1e+39")])
    func layerNormEpsMustBePositive(_ model: String, _ eps: String) throws {
        let (config, message) = try Self.loadWithEps(model, eps)
        #expect(message.hasPrefix("\(config): invalid config: 'layer_norm_eps' must be a finite positive number"), "\(message)")
    }

    /// `0.0` is refused too; until ConfigReader tells JSON numbers from booleans it is reported as
    /// "not a number", afterwards by the positivity rule (checked directly below).
    @Test(arguments: ["vit-p16-cls", "bert-tiny"])
    func layerNormEpsZeroIsRefused(_ model: String) throws {
        let (config, message) = try Self.loadWithEps(model, "0.0")
        #expect(message.hasPrefix("\(config): invalid config: 'layer_norm_eps' "), "\(message)")
        for eps: Float in [0, -0.0, -1, .infinity, .nan] {
            let spec = EncoderSpec(hidden: 8, heads: 2, layers: 1, eps: eps, activation: .gelu, norm: .pre, feedForward: .mlp(intermediate: 16))
            #expect(throws: CheckpointError.configInvalid(file: "c.json", reason: "'layer_norm_eps' must be a finite positive number (as a 32-bit float), got \(eps)")) {
                try spec.validate(file: "c.json")
            }
        }
    }

    @Test(arguments: [(Float.nan, "NaN"), (Float.infinity, "inf"), (-Float.infinity, "-inf")])
    func nonFiniteWeightIsRefusedAtLoad(_ bad: Float, _ reads: String) throws {
        let key = "vit.encoder.layer.1.intermediate.dense.weight"
        let dir = try Self.copy("vit-p16-cls", weights: { $0[key]?.values[37] = bad })
        defer { try? FileManager.default.removeItem(at: dir) }
        let message = Self.failure(dir)
        #expect(message == "\(dir.appendingPathComponent("model.safetensors").path): weight '\(key)' holds \(reads) at index 37; the checkpoint is corrupt (every weight must be finite)")
    }

    @Test func overflowingLayerNormStopsTheForwardAtTheLayerAndHead() throws {
        let dir = try Self.copy("vit-p16-cls", weights: { w in
            Self.map(&w, "vit.encoder.layer.1.layernorm_before.weight") { $0 * 1e30 }
        })
        defer { try? FileManager.default.removeItem(at: dir) }
        let message = Self.failure(dir, forward: true)
        #expect(message.hasPrefix("\(dir.appendingPathComponent("model.safetensors").path): the forward pass overflowed to NaN/inf in layer 1 head "), "\(message)")
        #expect(message.contains("attention scores (query token "), "\(message)")
    }

    @Test func overflowingMLPStopsTheForwardAtTheLayerOutput() throws {
        let dir = try Self.copy("vit-p16-cls", weights: { w in
            // Every weight and the bias at 3e38: the branch sum exceeds Float.greatestFiniteMagnitude.
            for k in ["vit.encoder.layer.0.output.dense.weight", "vit.encoder.layer.0.output.dense.bias"] {
                Self.map(&w, k) { _ in 3e38 }
            }
        })
        defer { try? FileManager.default.removeItem(at: dir) }
        let message = Self.failure(dir, forward: true)
        #expect(message.contains("overflowed to NaN/inf in the output of layer 0, token "), "\(message)")
    }

    @Test func overflowingTextModelNamesTheLayer() throws {
        let dir = try Self.copy("bert-tiny", weights: { w in
            for k in ["encoder.layer.0.attention.self.query.weight", "encoder.layer.0.attention.self.key.weight"] {
                Self.map(&w, k) { $0 * 1e30 }
            }
        })
        defer { try? FileManager.default.removeItem(at: dir) }
        let message = Self.failure(dir, forward: true)
        #expect(message.contains("overflowed to NaN/inf in layer 0 head "), "\(message)")
    }

    @Test func validModelsStillRun() throws {
        let dir = try Self.copy("vit-p16-cls")
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(Self.failure(dir, forward: true) == "ran")
    }
}
