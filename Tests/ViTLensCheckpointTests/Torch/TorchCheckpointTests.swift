import Foundation
import Testing
import ViTLensTestSupport
@testable import ViTLensCheckpoint

/// `torch.save` files written by tools/make_torch_fixtures.py load to the same tensors, bit for bit,
/// as the safetensors files the generator wrote from the same state dicts.
@Suite("TorchCheckpoint")
struct TorchCheckpointTests {
    static func tensors(_ name: String) -> URL { Fixtures.url("torch/tensors/\(name)") }

    /// Every float tensor of `pth` equals the one in `reference` (bit patterns), with the same shape.
    static func expectSame(_ pth: String, as reference: String) throws {
        let torch = try TorchCheckpoint(url: tensors(pth))
        let safe = try SafeTensorsArchive(url: tensors(reference))
        #expect(torch.names == safe.names, "\(pth)")
        for name in safe.names {
            #expect(torch.shape(of: name) == safe.info(name)?.shape, "\(pth) \(name)")
            guard safe.info(name)?.dtype.isFloatingPoint == true else { continue }
            let a = try torch.floats(name, requireFinite: true), b = try safe.floats(name)
            #expect(a.map(\.bitPattern) == b.map(\.bitPattern), "\(pth) \(name)")
        }
    }

    @Test(arguments: [("f32.zip.pth", "f32.safetensors"), ("f32.legacy.pth", "f32.safetensors"),
                      ("f16.zip.pth", "f16.safetensors"), ("bf16.zip.pth", "bf16.safetensors"),
                      ("bf16.legacy.pth", "bf16.safetensors"), ("f64.zip.pth", "f64.safetensors")])
    func sameTensorsAsSafeTensors(_ pth: String, _ reference: String) throws {
        try Self.expectSame(pth, as: reference)
    }

    @Test func formatAndStridedViews() throws {
        let zip = try TorchCheckpoint(url: Self.tensors("f32.zip.pth"))
        let legacy = try TorchCheckpoint(url: Self.tensors("f32.legacy.pth"))
        #expect(!zip.isLegacyFormat && legacy.isLegacyFormat)
        #expect(zip.stateDictKey == nil)
        let base = try zip.floats("base")
        #expect(base.count == 24)
        // "transposed" is base.t(): [6, 4] with strides (1, 6); "row_view" is base[1:3] at offset 6.
        let t = try zip.floats("transposed")
        #expect(zip.shape(of: "transposed") == [6, 4])
        #expect(t[1 * 4 + 2] == base[2 * 6 + 1])
        #expect(try zip.floats("row_view") == Array(base[6 ..< 18]))
        #expect(zip.shape(of: "scalar") == [])
        #expect(try zip.floats("scalar") == [1.5])
        #expect(zip.shape(of: "empty") == [0, 3])
        #expect(try zip.floats("empty").isEmpty)
        #expect(zip.dtype(of: "num_batches_tracked") == .I64)
        #expect(throws: CheckpointError.unknownDType(file: Self.tensors("f32.zip.pth").path, key: "num_batches_tracked", dtype: "I64")) {
            try zip.floats("num_batches_tracked")
        }
        #expect(throws: CheckpointError.missingWeight(key: "nope", file: Self.tensors("f32.zip.pth").path)) { try zip.floats("nope") }
    }

    @Test func nestedStateDicts() throws {
        let nested = try TorchCheckpoint(url: Self.tensors("nested-model.pth"))
        #expect(nested.stateDictKey == "model")
        #expect(try nested.floats("base") == (try TorchCheckpoint(url: Self.tensors("f32.zip.pth")).floats("base")))
        let dino = try TorchCheckpoint(url: Self.tensors("dino-style.pth"))
        #expect(dino.stateDictKey == "teacher")
        #expect(dino.names.contains("num_batches_tracked"))
        let student = try TorchCheckpoint(url: Self.tensors("dino-style.pth"), key: "student")
        #expect(student.stateDictKey == "student")
        #expect(try student.floats("scalar") == [2.5])
        let file = Self.tensors("two-dicts.pth").path
        #expect(throws: TorchCheckpointError(file: file, reason: "holds several state dicts (a, b): choose one with --key")) {
            try TorchCheckpoint(url: Self.tensors("two-dicts.pth"))
        }
        #expect(try TorchCheckpoint(url: Self.tensors("two-dicts.pth"), key: "b").names.count == 9)
        #expect(throws: TorchCheckpointError(file: file, reason: "has no state dict under key 'c' (state dicts: a, b)")) {
            try TorchCheckpoint(url: Self.tensors("two-dicts.pth"), key: "c")
        }
    }

    @Test func weightStoreAndSourcesOpenTorchFiles() throws {
        let source = try TensorSources.open(Self.tensors("f16.zip.pth"))
        #expect(source is TorchCheckpoint)
        #expect(try TensorSources.open(Self.tensors("f16.safetensors")) is SafeTensorsArchive)
        let store = WeightStore(archive: source, basePrefix: "x.")
        #expect(try store.take("blocks.0.norm1.bias", shape: [3]).count == 3)
        #expect(throws: CheckpointError.shapeMismatch(key: "base", expected: [6, 4], found: [4, 6], file: Self.tensors("f16.zip.pth").path)) {
            try store.take("base", shape: [6, 4])
        }
    }

    @Test func locatorTakesTorchFilesBesideAConfig() throws {
        let bin = Fixtures.url("torch/vit-cls/pytorch_model.bin")
        let byFile = try ModelLocator.resolve(bin.path)
        #expect(byFile.weights == bin)
        let byFolder = try ModelLocator.resolve(Fixtures.url("torch/vit-cls").path)
        #expect(byFolder.weights.lastPathComponent == "pytorch_model.bin")
    }
}
