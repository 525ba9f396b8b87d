import Foundation
import Testing
import ViTLens
import ViTLensTestSupport

/// On the packed AVX-512 kernels every product of a forward and of rollout is one multiply-add chain
/// per entry, whatever the rows' split, so `--threads` changes no bit of any output. (Through
/// OpenBLAS's Haswell kernels it would: their rounding changes with the thread count.) Each run is a
/// process of its own, so no other suite's thread setting reaches it.
@Suite(.enabled(if: LinearKernel.current == .packedAVX512 && AttentionKernel.current == .packedAVX512,
                "BLAS runs the products here (no AVX-512 F, or VITLENS_*_KERNEL=blas)"))
struct ThreadCountTests {
    @Test func everyOutputHasTheSameBitsForAnyThreadCount() throws {
        let model = Fixtures.url("models/dino-p8").path
        let photo = Fixtures.repositoryRoot.appendingPathComponent("photos/grace_hopper.jpg").path
        let root = CLI.temporaryDirectory("threads")
        var first: [String: Data] = [:]
        for threads in [1, 2, 3] {
            var files: [String: Data] = [:]
            for command in ["analyze", "dump"] {
                let out = root.appendingPathComponent("\(command)-\(threads)")
                let r = try CLI.run([command, photo, "--model", model, "--size", "96x80", "--threads", "\(threads)", "--out", out.path, "-q"])
                #expect(r.status == 0, "\(command) --threads \(threads): \(r.stderr)")
                for name in try FileManager.default.contentsOfDirectory(atPath: out.path) where name.hasSuffix(".npy") {
                    files["\(command)/\(name)"] = try Data(contentsOf: out.appendingPathComponent(name))
                }
            }
            // rollout, head maps, distances, and dump's attentions and hidden state at least.
            #expect(files.count >= 5, "\(files.keys.sorted())")
            if threads == 1 { first = files; continue }
            #expect(files.keys.sorted() == first.keys.sorted())
            for (name, data) in files { #expect(data == first[name], "\(name) differs between --threads 1 and \(threads)") }
        }
    }
}
