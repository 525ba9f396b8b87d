import Foundation
import Testing
import ViTLens
import ViTLensTestSupport

/// `vitlens bench --profile` and `--gemm-peak`, each in a process of its own (the profile recorder is
/// process-wide): exact flop counts, every kind that runs, shares that add up.
@Suite struct BenchCLITests {
    let vit = Fixtures.url("models/vit-p16-cls").path

    func json(_ r: CLI.Result) throws -> [String: Any] {
        #expect(r.status == 0, "\(r.stderr)")
        return try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], "\(r.stdout)")
    }

    /// vit-p16-cls at 224 (config.json: hidden 32, 2 heads of 16, 2 layers, MLP 64, 197 tokens): every
    /// product's flops per forward are the closed form 2 m n k summed over layers, heads and blocks.
    @Test func profileCountsEveryProductExactly() throws {
        let report = try json(try CLI.run(["bench", "--profile", "--model", vit, "--runs", "2", "--warmup", "1", "--threads", "2"]))
        #expect(report["tokens"] as? Int == 197)
        let kernel = try #require(report["attention_kernel"] as? String)
        #expect(kernel == AttentionKernel.current.rawValue)
        let linearKernel = try #require(report["linear_kernel"] as? String)
        #expect(linearKernel == LinearKernel.current.rawValue)
        let profile = try #require(report["profile"] as? [String: Any])
        let peak = try #require(profile["gemm_peak_gflops"] as? Double)
        #expect(peak > 0 && report["gemm_peak_gflops"] as? Double == peak)
        let (n, d, i, h, dh, layers) = (197, 32, 64, 2, 16, 2)
        let closedForm = [
            "gemm_qkv": layers * 2 * n * 3 * d * d, "gemm_attention_output": layers * 2 * n * d * d,
            "gemm_mlp_up": layers * 2 * n * i * d, "gemm_mlp_down": layers * 2 * n * d * i,
            "attention_qk": layers * h * 2 * n * n * dh, "attention_pv": layers * h * 2 * n * dh * n,
        ]
        for mode in ["streaming", "with_attentions", "analyze"] {
            let m = try #require(profile[mode] as? [String: Any], "\(mode)")
            let rows = try #require(m["kinds"] as? [[String: Any]], "\(mode)")
            var byKind: [String: [String: Any]] = [:]
            for r in rows { byKind[r["kind"] as? String ?? ""] = r }
            for (kind, flops) in closedForm {
                let r = try #require(byKind[kind], "\(mode): \(kind) missing")
                #expect(r["flops"] as? Int == flops, "\(mode): \(kind)")
                #expect((r["gflops"] as? Double ?? 0) > 0, "\(mode): \(kind)")
                #expect((r["peak_share"] as? Double ?? -1) >= 0, "\(mode): \(kind)")
            }
            var expected = ["layernorm", "activation", "residual_add", "finite_checks", "observers", "attention_pass",
                            "softmax", "gemm_other"] + closedForm.keys
            // The packed kernel's softmax finds non-finite scores in its own maximum pass.
            if kernel == "blas" { expected.append("attention_finite_checks") } else { #expect(byKind["attention_finite_checks"] == nil) }
            // The packed Linear kernel adds the biases in its products.
            if linearKernel == "blas" { expected.append("bias_add") } else { #expect(byKind["bias_add"] == nil) }
            if mode == "analyze" { expected.append("row_statistics") }
            for kind in expected {
                let r = try #require(byKind[kind], "\(mode): \(kind) missing")
                #expect((r["ms"] as? Double ?? 0) > 0 || (r["calls"] as? Int ?? 0) > 0, "\(mode): \(kind)")
                #expect((r["calls"] as? Int ?? 0) > 0, "\(mode): \(kind)")
                #expect((r["gflops"] != nil) == (kind.hasPrefix("gemm_") || kind == "attention_qk" || kind == "attention_pv"), "\(mode): \(kind)")
            }
            // Per forward: 2 layers x 4 Linears + the classifier; 2 LayerNorms per layer + the final one.
            #expect(byKind["gemm_qkv"]?["calls"] as? Int == 2)
            #expect(byKind["layernorm"]?["calls"] as? Int == 5)
            #expect(byKind["attention_qk"]?["calls"] as? Int == layers * h * 2, "2 blocks of 99 and 98 rows per head")
            #expect(byKind["copies"] == nil && byKind["attention_logits_copy"] == nil && byKind["attention_bias_mask"] == nil,
                    "\(mode): copies, the bias/mask and the logits copy run only with a tape, a bias or a mask, logits")
            let forward = try #require(m["forward_ms"] as? Double)
            let wall = rows.filter { $0["threaded"] as? Bool == false }.compactMap { $0["ms"] as? Double }.reduce(0, +)
            #expect(abs((m["other_ms"] as? Double ?? Double.nan) - (forward - wall)) < 0.05, "\(mode): other = forward - wall kinds")
            #expect(wall <= forward + 0.05, "\(mode): the wall-clock kinds do not overlap")
            #expect((m["page_faults"] as? Double ?? -1) >= 0)
        }
    }

    /// `--profile --batch-size B` profiles one batched forward of B images (mean attention distance
    /// per image): every product counts B images' rows, and only the "batched" mode is reported.
    @Test func profileOfABatch() throws {
        let report = try json(try CLI.run(["bench", "--profile", "--batch-size", "3", "--model", vit, "--runs", "1", "--warmup", "0",
                                           "--threads", "2"]))
        let profile = try #require(report["profile"] as? [String: Any])
        #expect(profile["streaming"] == nil && profile["with_attentions"] == nil && profile["analyze"] == nil && report["batched"] == nil)
        let m = try #require(profile["batched"] as? [String: Any])
        let rows = try #require(m["kinds"] as? [[String: Any]])
        var byKind: [String: [String: Any]] = [:]
        for r in rows { byKind[r["kind"] as? String ?? ""] = r }
        let (n, d, i, h, dh, layers, images) = (197, 32, 64, 2, 16, 2, 3)
        #expect(byKind["gemm_qkv"]?["flops"] as? Int == layers * 2 * images * n * 3 * d * d)
        #expect(byKind["gemm_mlp_down"]?["flops"] as? Int == layers * 2 * images * n * d * i)
        #expect(byKind["attention_qk"]?["flops"] as? Int == images * layers * h * 2 * n * n * dh)
        #expect(byKind["gemm_qkv"]?["calls"] as? Int == layers, "one product for the whole batch per layer")
        #expect(byKind["attention_qk"]?["calls"] as? Int == images * layers * h * 2, "per image, head and block")
        #expect(byKind["observers"] != nil, "each image's mean attention distance observes every layer")
    }

    /// `--gemm-peak` alone needs no model and prints only the peak; --profile needs a model.
    @Test func gemmPeakAloneAndBadCombinations() throws {
        let report = try json(try CLI.run(["bench", "--gemm-peak", "--threads", "1"]))
        #expect((report["gemm_peak_gflops"] as? Double ?? 0) > 0)
        // The faster of BLAS and the Linear layers' own kernel (which is BLAS without AVX-512).
        let source = try #require(report["gemm_peak_kernel"] as? String)
        #expect(source == "blas" || source == LinearKernel.current.rawValue, "\(source)")
        #expect(report["size"] == nil && report["profile"] == nil && report["threads"] as? Int == 1)
        let noModel = try CLI.run(["bench", "--profile"])
        #expect(noModel.status != 0 && noModel.errorLines.first == "Error: --profile needs --model", "\(noModel.stderr)")
    }
}
