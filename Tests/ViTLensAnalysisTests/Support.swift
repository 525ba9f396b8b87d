import Foundation
import Testing
import ViTLensAnalysis
import ViTLensCore
import ViTLensTestSupport

/// `Tests/Fixtures/analysis/reference.json`, written by `tools/make_analysis_fixtures.py`.
struct AnalysisReference: Decodable {
    static let formatVersion = 1
    static let modelNames = ["dinov2_registers", "deit_distilled"]

    struct Model: Decodable {
        var prefix: [String]
        var grid: [Int]
        var patchSize: Int
        var attentions: String
        var attentionsSecond: String?
        var shape: [Int]
        var rollout: [RolloutCase]
        var headMaps: [HeadMapCase]
        var masks: [MaskCase]
        var mad: [String: [[Double]]]
        var entropy: [String: [[Double]]]
        var flow: [FlowCase]
    }

    struct RolloutCase: Decodable {
        var name: String
        var fusion: String
        var discardRatio: Double
        var discardMode: String
        var residual: String
        var firstLayer: Int
        var lastLayer: Int
        var readout: String
        var row: [Double]
        var matrixRowSums: [Double]
    }

    struct HeadMapCase: Decodable {
        var layer: Int
        var query: String
        var rows: [[Double]]
        var fused: [String: [Double]]
    }

    struct MaskCase: Decodable {
        var layer: Int
        var threshold: Double
        var values: [UInt8]
    }

    struct FlowCase: Decodable {
        var readout: String
        var row: [Double]
        var raw: [Double]
    }

    var formatVersion: Int
    var models: [String: Model]

    /// The reference of one model, checking the fixture format.
    static func model(_ name: String) throws -> Model {
        let data = try Data(contentsOf: Fixtures.url("analysis/reference.json"))
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let ref = try decoder.decode(AnalysisReference.self, from: data)
        try #require(ref.formatVersion == formatVersion, "stale fixtures: re-run `python tools/make_analysis_fixtures.py`")
        return try #require(ref.models[name], "no reference for \(name)")
    }
}

extension AnalysisReference.Model {
    var layout: TokenLayout {
        let kinds = prefix.map { PrefixToken(rawValue: $0) ?? .register }
        return TokenLayout(prefix: kinds, grid: PatchGrid(rows: grid[0], columns: grid[1], patchSize: patchSize))
    }

    func file(second: Bool = false) throws -> AttentionArrayFile {
        let name = second ? try #require(attentionsSecond) : attentions
        return try AttentionArrayFile(contentsOf: Fixtures.url("analysis/" + name), layout: layout)
    }
}

enum Parse {
    static func fusion(_ s: String) -> HeadFusion {
        switch s {
        case "mean": return .mean
        case "max": return .max
        case "min": return .min
        case "std": return .std
        default: return .head(Int(s.dropFirst(5)) ?? -1)
        }
    }

    static func query(_ s: String) -> TokenQuery {
        if s == "cls" { return .cls }
        if s.hasPrefix("token:") { return .token(Int(s.dropFirst(6)) ?? -1) }
        let parts = s.dropFirst(6).split(separator: ",").compactMap { Int($0) }
        return .patch(row: parts.first ?? -1, column: parts.last ?? -1)
    }

    static func readout(_ s: String) -> Readout {
        s == "mean_of_patches" ? .meanOfPatches : .query(query(s))
    }

    static func residual(_ s: String) -> Rollout.Residual {
        switch s {
        case "halfIdentity": return .halfIdentity
        case "none": return .none
        default: return .identityRenormalized
        }
    }
}

/// Checks `actual` against `expected` elementwise within `abs + rel·|expected|`, reporting the
/// worst index and the first values side by side.
func expectClose(
    _ actual: [Float], _ expected: [Double], abs tolerance: Double = 1e-5, rel: Double = 0,
    _ label: String = "", sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(actual.count == expected.count, "\(label): \(actual.count) values, expected \(expected.count)", sourceLocation: sourceLocation)
    guard actual.count == expected.count, !actual.isEmpty else { return }
    var worst = 0
    var worstExcess = -Double.infinity
    for i in actual.indices {
        var excess = Swift.abs(Double(actual[i]) - expected[i]) - (tolerance + rel * Swift.abs(expected[i]))
        if excess.isNaN { excess = .infinity }
        if excess > worstExcess {
            worstExcess = excess
            worst = i
        }
    }
    #expect(
        worstExcess <= 0,
        "\(label): worst index \(worst): \(actual[worst]) vs \(expected[worst]); first \(Array(actual.prefix(4))) vs \(Array(expected.prefix(4)))",
        sourceLocation: sourceLocation)
}

/// Builds `[layers, heads, N, N]` attention from a (layer, head, query) -> row function.
func syntheticAttention(layers: Int, heads: Int, layout: TokenLayout, row: (Int, Int, Int) -> [Float]) throws -> AttentionArrayFile {
    let n = layout.tokenCount
    var values: [Float] = []
    values.reserveCapacity(layers * heads * n * n)
    for l in 0 ..< layers {
        for h in 0 ..< heads {
            for i in 0 ..< n { values.append(contentsOf: row(l, h, i)) }
        }
    }
    return try AttentionArrayFile(attentions: Tensor(shape: [layers, heads, n, n], values: values), layout: layout, name: "synthetic")
}

/// Deterministic pseudo-random softmax rows (a small LCG, so tests share no RNG state).
func randomAttention(layers: Int, heads: Int, layout: TokenLayout, seed: UInt64 = 1, sharpness: Float = 3) throws -> AttentionArrayFile {
    var state = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
    func next() -> Float {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return Float(state >> 40) / Float(1 << 24)
    }
    let n = layout.tokenCount
    return try syntheticAttention(layers: layers, heads: heads, layout: layout) { _, _, _ in
        let logits = (0 ..< n).map { _ in sharpness * next() }
        let m = logits.max() ?? 0
        let e = logits.map { Float(exp(Double($0 - m))) }
        let s = e.reduce(0, +)
        return e.map { $0 / s }
    }
}

/// Runs one observer over a file and returns it.
func replayed<O: AttentionObserver>(_ observer: O, _ file: AttentionArrayFile) throws -> O {
    var o = observer
    try file.replay(into: &o)
    return o
}
