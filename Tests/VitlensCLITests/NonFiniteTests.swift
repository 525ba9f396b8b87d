import Foundation
import Testing
import ViTLens
import ViTLensTestSupport

/// No silent NaN (issue 7, class 4): invalid normalisation values, non-finite weights, forward
/// passes that overflow and non-finite attention files each stop the run with one line naming the
/// file and the field, weight, layer or index, a non-zero exit, and no maps written.
@Suite(.serialized) struct NonFiniteTests {
    /// Runs `args`; expects a failure whose single stderr line contains every string in `says`.
    func expectFailure(_ args: [String], says: [String], sourceLocation: SourceLocation = #_sourceLocation) throws {
        let r = try CLI.run(args)
        #expect(r.status == 1, "exit \(r.status) for \(args): \(r.stderr)", sourceLocation: sourceLocation)
        #expect(r.errorLines.count == 1, "\(r.stderr)", sourceLocation: sourceLocation)
        let line = r.errorLines.first ?? ""
        for s in says { #expect(line.contains(s), "'\(line)' does not say '\(s)'", sourceLocation: sourceLocation) }
    }

    /// `vitlens heads photos/rocket.jpg --model <copy> --out <fresh>`; returns the output folder.
    func heads(_ copy: FixtureModelCopy, out: URL) -> [String] {
        ["heads", "photos/rocket.jpg", "--model", copy.url.path, "--out", out.path]
    }

    /// Files a run left in `out` (none expected after a failure).
    func written(_ out: URL) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: out.path)) ?? []).filter { !$0.hasPrefix(".") }
    }

    @Test(arguments: [Float.nan, .infinity, -.infinity])
    func nonFiniteWeight(_ bad: Float) throws {
        let copy = try FixtureModelCopy("vit-p16-cls")
        defer { copy.remove() }
        try copy.editWeights { $0["vit.encoder.layer.0.attention.attention.value.weight"]?.values[123] = bad }
        let out = CLI.temporaryDirectory("nanw")
        try expectFailure(heads(copy, out: out), says: [
            copy.file("model.safetensors").path, "weight 'vit.encoder.layer.0.attention.attention.value.weight' holds",
            "\(bad.isNaN ? "NaN" : bad > 0 ? "inf" : "-inf") at index 123",
        ])
        #expect(written(out).isEmpty)
    }

    @Test(arguments: ["-1e-06", "1e-50", "1e+39"])
    func layerNormEps(_ eps: String) throws {
        let copy = try FixtureModelCopy("vit-p16-cls")
        defer { copy.remove() }
        try copy.setJSON("config.json", "layer_norm_eps", eps)
        try expectFailure(heads(copy, out: CLI.temporaryDirectory("eps")), says: [
            copy.file("config.json").path, "'layer_norm_eps' must be a finite positive number",
        ])
    }

    @Test func layerNormEpsZero() throws {
        for model in ["vit-p16-cls", "bert-tiny"] {
            let copy = try FixtureModelCopy(model)
            defer { copy.remove() }
            try copy.setJSON("config.json", "layer_norm_eps", "0.0")
            let args = model == "bert-tiny"
                ? ["heads", "--text", "a cat", "--model", copy.url.path, "--out", CLI.temporaryDirectory("eps0").path]
                : heads(copy, out: CLI.temporaryDirectory("eps0"))
            try expectFailure(args, says: [copy.file("config.json").path, "'layer_norm_eps' must be a finite positive number (as a 32-bit float), got 0.0"])
        }
    }

    @Test(arguments: [
        ("image_std", "0", "field 'image_std': entry 0 is 0.0; every std must be a finite positive float32"),
        ("image_std", "[0.5, -0.5, 0.5]", "field 'image_std': entry 1 is -0.5"),
        ("image_mean", "[0.5, 0.5, 1e39]", "field 'image_mean': entry 2 is 1e+39, not a finite float32"),
        ("rescale_factor", "1e30", "field 'rescale_factor': channel 0 normalises pixels to magnitude 5.1e+32"),
        ("rescale_factor", "-0.5", "field 'rescale_factor': -0.5 must be a finite positive number"),
    ])
    func preprocessorValues(_ field: String, _ value: String, _ message: String) throws {
        let copy = try FixtureModelCopy("vit-p16-cls")
        defer { copy.remove() }
        try copy.setJSON("preprocessor_config.json", field, value)
        try expectFailure(heads(copy, out: CLI.temporaryDirectory("pp")), says: [copy.file("preprocessor_config.json").path, message])
    }

    @Test func overflowingForwardWritesNoMaps() throws {
        let copy = try FixtureModelCopy("vit-p16-cls")
        defer { copy.remove() }
        try copy.mapWeight("vit.encoder.layer.1.layernorm_before.weight") { $0 * 1e30 }
        for command in ["heads", "rollout", "dump"] {
            let out = CLI.temporaryDirectory("ovf")
            try expectFailure([command, "photos/rocket.jpg", "--model", copy.url.path, "--out", out.path], says: [
                copy.file("model.safetensors").path, "the forward pass overflowed to NaN/inf in layer 1 head ", "attention scores",
            ])
            #expect(written(out).isEmpty, "\(command) wrote \(written(out))")
        }
    }

    @Test func overflowingTextForward() throws {
        let copy = try FixtureModelCopy("bert-tiny")
        defer { copy.remove() }
        try copy.mapWeight("encoder.layer.1.output.dense.bias") { _ in 3e38 }
        try copy.mapWeight("encoder.layer.1.output.dense.weight") { _ in 3e38 }
        try expectFailure(["heads", "--text", "the cat sat", "--model", copy.url.path, "--out", CLI.temporaryDirectory("ovt").path],
                          says: ["the forward pass overflowed to NaN/inf in the output of layer 1"])
    }

    /// `--attentions` files: +inf, -inf and an f8 value beyond the float32 range are not probabilities.
    @Test(arguments: [("<f4", Double.infinity, "inf"), ("<f4", -Double.infinity, "-inf"), ("<f8", 1e300, "inf")])
    func attentionsFileWithNonFiniteValues(_ dtype: String, _ bad: Double, _ reads: String) throws {
        var t = try fixtureTensor("cases/dino-p8-hopper-native/attentions.npy")
        let f = CLI.temporaryDirectory("npy").appendingPathComponent("bad.npy")
        var values = t.values.map(Double.init)
        values[65 * 2 + 3] = bad
        if dtype == "<f8" {
            let header = "{'descr': '<f8', 'fortran_order': False, 'shape': (\(t.shape.map(String.init).joined(separator: ", "))), }"
            var h = Data([0x93]) + Data("NUMPY".utf8) + Data([1, 0])
            var text = header
            while (10 + text.utf8.count + 1) % 64 != 0 { text += " " }
            text += "\n"
            withUnsafeBytes(of: UInt16(text.utf8.count).littleEndian) { h.append(contentsOf: $0) }
            h.append(Data(text.utf8))
            for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { h.append(contentsOf: $0) } }
            try h.write(to: f)
        } else {
            t.values = values.map { Float($0) }
            try NPY.write(t, to: f)
        }
        let out = CLI.temporaryDirectory("npyout")
        try expectFailure(["rollout", "--attentions", f.path, "--prefix-tokens", "1", "--grid", "8x8", "--patch-size", "8", "--out", out.path],
                          says: [f.path, "layer 0, head 0, row 2, column 3 holds \(reads), not a probability"])
        #expect(written(out).isEmpty)
    }
}
