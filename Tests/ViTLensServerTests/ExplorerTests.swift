import Foundation
import Testing
import ViTLens
import ViTLensTestSupport
@testable import ViTLensServer

/// The explorer's answers equal what the library (and so the CLI) computes for the same input.
///
/// Reference values come from a second forward pass in the same process. OpenBLAS's thread setting is
/// process-wide and Swift Testing runs suites concurrently, so two passes can block their sums
/// differently: references are compared to 1e-6 (float32 rounding), while slices of one cached pass
/// (the f32 and JSON forms, fusion of cached rows) are compared exactly.
@Suite struct ExplorerTests {
    func close(_ a: [Float], _ b: [Float]) -> Bool {
        compare(Tensor(shape: [a.count], values: a), Tensor(shape: [b.count], values: b)).within(.pixels)
    }

    static let attentionKeys: Set<String> = ["layer", "head", "fusion", "query", "keys"]

    @Test func mapsAreSlicesOfTheRecordedAttention() async throws {
        let explorer = try ServerFixtures.explorer()
        let e = try await explorer.uploadImage(try ServerFixtures.photo(), model: "0", size: nil, name: "grace.jpg")
        let stack = try ServerFixtures.recorded(e)  // [L, H, N, N]
        let (layers, heads, n) = (stack.shape[0], stack.shape[1], stack.shape[2])
        let grid = try #require(e.layout.grid)
        #expect(e.attention.mode == .full && e.attention.dtype == .float32)
        for l in 0 ..< layers {
            for h in 0 ..< heads {
                for (query, q) in [("cls", 0), ("patch:1,2", e.layout.patchIndex(row: 1, column: 2)), ("\(n - 1)", n - 1)] {
                    let p = try ServerFixtures.parameters(["layer": "\(l)", "head": "\(h)", "query": query], Self.attentionKeys)
                    let answer = try await explorer.attention(e, p)
                    #expect(answer.shape == [grid.rows, grid.columns])
                    let row = Array(stack.values[(((l * heads + h) * n + q) * n) ..< (((l * heads + h) * n + q + 1) * n)])
                    #expect(close(answer.values, Array(row[e.layout.prefixCount...])), "layer \(l) head \(h) query \(query)")
                    #expect(!answer.recomputed)
                }
            }
        }
        // The mean over heads, as HeadFusion does it for the CLI.
        let p = try ServerFixtures.parameters(["layer": "-1", "fusion": "mean"], Self.attentionKeys)
        let fused = try await explorer.attention(e, p)
        let last = stack.slice(layers - 1)
        let cls = Tensor(shape: [heads, n], values: (0 ..< heads).flatMap { h in Array(last.values[(h * n * n) ..< (h * n * n + n)]) })
        #expect(close(fused.values, Array(try HeadFusion.mean.fuse(cls).values[1...])))
        // Every layer, head and query at once: the documented [layers, heads, N, keys] order.
        let all = try await explorer.attention(e, try ServerFixtures.parameters(["layer": "all", "query": "all", "keys": "all"], Self.attentionKeys))
        #expect(all.shape == [layers, heads, n, n])
        #expect(close(all.values, stack.values))
    }

    @Test func rolloutMasksAndDistanceEqualTheLibrary() async throws {
        let explorer = try ServerFixtures.explorer()
        let e = try await explorer.uploadImage(try ServerFixtures.photo("astronaut.png"), model: "0", size: (112, 84), name: "astronaut.png")
        #expect(e.layout.grid == PatchGrid(rows: 8, columns: 6, patchSize: 14))
        var options = Rollout.Options()
        (options.residual, options.lastLayer, options.discardRatio) = (.halfIdentity, 0, 0.5)
        var reference = try Rollout(options)
        try e.model.session.run(e.input, observer: &reference)
        let p = try ServerFixtures.parameters(["residual": "half", "last_layer": "0", "discard": "0.5"],
                                              ["residual", "fusion", "discard", "discard_mode", "first_layer", "last_layer", "query"])
        let rollout = try await explorer.rollout(e, p)
        let expected = try #require(reference.result)
        #expect(rollout.shape == expected.map.shape)
        #expect(compare(Tensor(shape: rollout.shape, values: rollout.values), expected.map).within(.pixels))

        var heads = HeadMaps(layer: 1, query: .cls)
        try e.model.session.run(e.input, observer: &heads)
        let masks = try #require(heads.result).masks(threshold: 0.4)
        let answer = try await explorer.masks(e, try ServerFixtures.parameters(["layer": "1", "threshold": "0.4"], ["layer", "query", "threshold"]))
        #expect(answer.shape == masks.shape)
        #expect(answer.values == masks.values.map(Float.init))

        var mad = MeanAttentionDistance()
        try e.model.session.run(e.input, observer: &mad)
        let distance = try explorer.distance(e, try ServerFixtures.parameters([:], ["renormalize"]))
        // Two forward passes: other suites running at once change the process-wide BLAS thread count,
        // and with AVX-512 kernels the GEMM's last bits depend on it; the distances agree to 1e-6.
        let expectedDistance = try #require(mad.result).mean.values
        #expect(distance.values.count == expectedDistance.count)
        #expect(zip(distance.values, expectedDistance).allSatisfy { abs($0 - $1) <= 1e-6 * max(1, abs($1)) })
    }

    @Test func float16CacheStaysWithinItsStatedBound() async throws {
        let explorer = try ServerFixtures.explorer { $0.cachePrecision = .float16 }
        let e = try await explorer.uploadImage(try ServerFixtures.photo(), model: "0", size: nil, name: "grace.jpg")
        #expect(e.attention.dtype == .float16)
        // Both stores filled by one forward pass, so only the storage differs.
        let a = e.attention
        let f32 = StoredAttention(layers: a.layers, heads: a.heads, tokens: a.tokens, prefix: a.prefix, mode: .full, dtype: .float32)
        let f16 = StoredAttention(layers: a.layers, heads: a.heads, tokens: a.tokens, prefix: a.prefix, mode: .full, dtype: .float16)
        var both = ObserverPair(StoreCapture(store: f32), StoreCapture(store: f16))
        try e.model.session.run(e.input, observer: &both)
        var worst: Float = 0, rounded = 0
        for l in 0 ..< a.layers {
            for (x, y) in zip(try #require(f16.layer(l)), try #require(f32.layer(l))) {
                #expect(abs(x - y) <= max(abs(y) * 0x1p-11, 0x1p-25))
                worst = max(worst, abs(x - y))
                if x != y { rounded += 1 }
            }
        }
        #expect(rounded > 0 && worst > 0, "float16 storage should round something")
        // The API slices the float16 store the same way.
        let answer = try await explorer.attention(e, try ServerFixtures.parameters(["layer": "0", "head": "1", "query": "cls", "keys": "all"], Self.attentionKeys))
        #expect(answer.values == Array(try #require(e.attention.layer(0))[(a.tokens * a.tokens) ..< (a.tokens * a.tokens + a.tokens)]))
    }

    @Test func jsonAndFloat32AnswersCarryTheSameNumbers() async throws {
        let explorer = try ServerFixtures.explorer()
        let e = try await explorer.uploadImage(try ServerFixtures.photo(), model: "0", size: nil, name: "g")
        let answer = try await explorer.attention(e, try ServerFixtures.parameters(["layer": "all", "query": "patch:3,3"], Self.attentionKeys))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(answer.json.utf8)) as? [String: Any])
        #expect(json["shape"] as? [Int] == [2, 2, 4, 4])
        let parsed = try #require(json["values"] as? [Double]).map(Float.init)
        #expect(parsed == answer.values)
        let bytes = answer.float32Bytes
        var decoded = [Float](repeating: 0, count: bytes.count / 4)
        _ = decoded.withUnsafeMutableBytes { bytes.copyBytes(to: $0) }  // little-endian host
        #expect(decoded == answer.values)
        let prefix = try #require(json["prefix"] as? [String: Any])
        #expect(prefix["shape"] as? [Int] == [2, 2, 1])
    }

    @Test func partialCacheRecomputesWhatItLacks() async throws {
        // float32: the full stack (2 layers * 2 heads * 17^2 * 4 bytes = 4,624) does not fit 3,000 bytes; the
        // partial store (prefix rows 2 * 2 * 17 * 4 + last layer 2 * 17^2 * 4 = 2,584) does.
        let explorer = try ServerFixtures.explorer { ($0.cacheBytes, $0.cachePrecision) = (3_000, .float32) }
        let e = try await explorer.uploadImage(try ServerFixtures.photo(), model: "0", size: nil, name: "grace.jpg")
        #expect(e.attention.mode == .partial)
        #expect(!e.info.cache.recompute.isEmpty)
        let stack = try ServerFixtures.recorded(e)
        let n = stack.shape[2], heads = stack.shape[1]
        let q = e.layout.patchIndex(row: 2, column: 3)
        for (layer, query, recomputes) in [(0, "cls", false), (0, "patch:2,3", true), (1, "patch:2,3", false)] {
            let answer = try await explorer.attention(e, try ServerFixtures.parameters(["layer": "\(layer)", "head": "1", "query": query, "keys": "all"], Self.attentionKeys))
            let qi = query == "cls" ? 0 : q
            let start = ((layer * heads + 1) * n + qi) * n
            // A second pass in this process: equal to float32 rounding (see the suite note).
            let expected = Tensor(shape: [n], values: Array(stack.values[start ..< start + n]))
            #expect(compare(Tensor(shape: [n], values: answer.values), expected).within(.pixels), "layer \(layer) \(query)")
            #expect(answer.recomputed == recomputes, "layer \(layer) \(query)")
        }
        let rollout = try await explorer.rollout(e, try ServerFixtures.parameters([:], ["last_layer"]))
        #expect(rollout.recomputed)
    }

    @Test func leastRecentlyUsedInputsLeaveTheCache() async throws {
        // Each 17-token input takes 2 * 2 * 17 * 17 * 4 = 4,624 bytes in float32; room for two.
        let explorer = try ServerFixtures.explorer { ($0.cacheBytes, $0.cachePrecision) = (10_000, .float32) }
        let photo = try ServerFixtures.photo()
        let a = try await explorer.uploadImage(photo, model: nil, size: nil, name: "a")
        let b = try await explorer.uploadImage(photo, model: nil, size: nil, name: "b")
        _ = try explorer.input(a.id)  // a is now the most recent
        let c = try await explorer.uploadImage(photo, model: nil, size: nil, name: "c")
        #expect(throws: ExplorerError.evicted(b.id)) { try explorer.input(b.id) }
        #expect(try explorer.input(a.id).name == "a")
        #expect(try explorer.input(c.id).name == "c")
        #expect(explorer.store.bytes <= 10_000)
    }

    @Test func textInputsGiveTokensAndTheLayerMatrix() async throws {
        let explorer = try ServerFixtures.explorer()
        let e = try await explorer.uploadText(ServerFixtures.sentence, truncate: false, model: "1")
        let tokens = try #require(e.info.tokens)
        #expect(tokens.first == "[CLS]" && tokens.last == "[SEP]")
        let stack = try ServerFixtures.recorded(e)
        let (heads, t) = (stack.shape[1], stack.shape[2])
        let answer = try await explorer.attention(e, try ServerFixtures.parameters(["layer": "1", "query": "all"], Self.attentionKeys))
        #expect(answer.shape == [heads, t, t])
        #expect(close(answer.values, stack.slice(1).values))
        await #expect(throws: ExplorerError.self) { try await explorer.masks(e, try ServerFixtures.parameters([:], ["layer"])) }
        await #expect(throws: ExplorerError.self) {
            try await explorer.attention(e, try ServerFixtures.parameters(["keys": "patches"], Self.attentionKeys))
        }
    }

    @Test func aClassifierGivesItsTopFive() async throws {
        let explorer = try ServerFixtures.explorer(["vit-p16-cls"])
        let e = try await explorer.uploadImage(try ServerFixtures.photo(), model: nil, size: nil, name: "g")
        guard case .vision(let out) = try e.model.session.run(e.input, observer: &NoObserver.shared), let logits = out.logits else {
            Issue.record("no logits")
            return
        }
        let prediction = try #require(e.prediction)
        #expect(prediction.count == min(5, logits.count))
        #expect(prediction[0].index == logits.values.indices.max { logits.values[$0] < logits.values[$1] })
        #expect(prediction.map(\.probability) == prediction.map(\.probability).sorted(by: >))
        let infos = try explorer.modelInfos
        #expect(infos[0].classifier)
    }

    @Test func oversizedAnswersAndBadParametersAreRefused() async throws {
        let explorer = try ServerFixtures.explorer { $0.maxAnswerValues = 100 }
        let e = try await explorer.uploadImage(try ServerFixtures.photo(), model: "0", size: nil, name: "g")
        // 2 layers * 2 heads * 17 queries * 16 patches = 1,088 values.
        await #expect(throws: ExplorerError.self) {
            try await explorer.attention(e, try ServerFixtures.parameters(["layer": "all", "query": "all"], Self.attentionKeys))
        }
        #expect(try await explorer.attention(e, try ServerFixtures.parameters(["layer": "all"], Self.attentionKeys)).shape == [2, 2, 4, 4])
        for bad in [["head": "2"], ["layer": "5"], ["query": "patch:9,0"], ["query": "pixel:-1,3"], ["fusion": "median"], ["head": "0", "fusion": "mean"],
                    ["query": "nonsense"], ["keys": "some"]] {
            await #expect(throws: (any Error).self, "\(bad)") { try await explorer.attention(e, try ServerFixtures.parameters(bad, Self.attentionKeys)) }
        }
        #expect(throws: ExplorerError.self) { try ServerFixtures.parameters(["layr": "1"], Self.attentionKeys) }
        #expect(throws: ExplorerError.self) { try QueryParameters([("layer", "1"), ("layer", "2")], allowed: ["layer"]) }
    }
}

extension NoObserver {
    nonisolated(unsafe) static var shared = NoObserver()
}
