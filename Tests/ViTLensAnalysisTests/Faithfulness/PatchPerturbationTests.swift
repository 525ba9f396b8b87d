import Foundation
import Testing
import ViTLensAnalysis
import ViTLensCore

/// Deletion and insertion on a synthetic additive "model" whose every value is known.
///
/// One channel, 8 x 8 pixels, patch 2: a 4 x 4 grid of 16 patches. Patch `p` holds the value
/// `p + 1` everywhere, so the channel-mean baseline is 8.5. The target is linear,
/// `f(x) = sum_pixels w(patch) x`, so removing patch `p` changes it by exactly
/// `e_p = 4 w_p (p + 1 - 8.5)`, independently of the other patches: ordering by `e_p` descending
/// minimises every prefix of the deletion curve (and maximises the insertion curve), so it must
/// beat any other order, in particular the random mean.
@Suite struct PatchPerturbationTests {
    static let weights: [Float] = [0.3, -1.2, 0.8, 2.0, -0.5, 1.1, 0.0, 0.7, -2.2, 0.4, 1.5, -0.9, 0.6, -0.1, 1.9, 0.2]

    static var image: Tensor {
        Tensor(shape: [1, 8, 8], values: (0 ..< 64).map { (i: Int) -> Float in Float(patch(i) + 1) })
    }

    /// The patch of pixel `i` of the 8 x 8 image.
    static func patch(_ i: Int) -> Int {
        let row = i / 16, column = (i % 8) / 2
        return row * 4 + column
    }

    static func f(_ x: Tensor) -> Float {
        var s: Float = 0
        for i in 0 ..< 64 { s += weights[patch(i)] * x.values[i] }
        return s
    }

    static var effects: Tensor {
        Tensor(shape: [4, 4], values: (0 ..< 16).map { (p: Int) -> Float in 4 * weights[p] * (Float(p + 1) - 8.5) })
    }

    @Test func endpointsAndFractionAxis() throws {
        let setup = try PatchPerturbation(pixels: Self.image, patchSize: 2, steps: 5)
        let order = try setup.order(map: Self.effects)
        let del = try setup.deletion(order: order, evaluate: Self.f)
        let ins = try setup.insertion(order: order, evaluate: Self.f)
        let full = Double(Self.f(Self.image)), base = Double(Self.f(setup.baselineImage))
        #expect(setup.baselineImage.values.allSatisfy { $0 == 8.5 })
        #expect(del.values.first == full && del.values.last == base)
        #expect(ins.values.first == base && ins.values.last == full)
        // floor(k * 16 / 5) / 16 for k = 0 ... 5.
        #expect(del.fractions == [0, 3, 6, 9, 12, 16].map { Double($0) / 16 })
        #expect(zip(del.fractions, del.fractions.dropFirst()).allSatisfy { $0 < $1 })
        #expect(setup.evaluationsPerCurve == 6)
    }

    /// Ties are broken by patch index; the largest value comes first.
    @Test func orderIsDescendingWithTiesByIndex() throws {
        let setup = try PatchPerturbation(pixels: Tensor(zeros: [1, 4, 4]), patchSize: 2, steps: 1)
        #expect(try setup.order(map: Tensor(shape: [2, 2], values: [1, 3, 1, 2])) == [1, 3, 0, 2])
    }

    @Test func oracleOrderBeatsRandom() throws {
        let setup = try PatchPerturbation(pixels: Self.image, patchSize: 2)
        let report = try setup.report(target: "linear", methods: [("oracle", Self.effects), ("anti", Tensor(shape: [4, 4], values: Self.effects.values.map { -$0 }))],
                                      randomOrders: 8, seed: 42, evaluate: Self.f)
        let oracle = report.methods[0].curves, anti = report.methods[1].curves
        let randomRun = try #require(report.random)
        let random = randomRun.curves
        #expect(oracle.deletionAUC < random.deletionAUC && random.deletionAUC < anti.deletionAUC)
        #expect(oracle.insertionAUC > random.insertionAUC && random.insertionAUC > anti.insertionAUC)
        for (o, r) in zip(oracle.deletion.values, random.deletion.values) { #expect(o <= r + 1e-4) }
        #expect(report.forwards == 2 * (2 + 8) * 17)
        #expect(randomRun.seed == 42 && randomRun.orders == 8)
        // Same seed, same random curves.
        let again = try setup.report(target: "linear", methods: [], randomOrders: 8, seed: 42, evaluate: Self.f)
        #expect(again.random == randomRun)
    }

    @Test func blurBaselineKnownValues() throws {
        // Rows blur [0, 3, 6] with edge replication: [(0+0+3)/3, 3, (3+6+6)/3]; one row, so columns keep it.
        let blurred = try PerturbationBaseline.boxBlur(radius: 1).image(for: Tensor(shape: [1, 1, 3], values: [0, 3, 6]))
        #expect(blurred.values == [1, 3, 5])
        let twoChannels = Tensor(shape: [2, 2, 2], values: [1, 2, 3, 4, 10, 10, 10, 30])
        #expect(try PerturbationBaseline.channelMean.image(for: twoChannels).values == [2.5, 2.5, 2.5, 2.5, 15, 15, 15, 15])
        let constant = try PerturbationBaseline.boxBlur(radius: 3).image(for: Tensor(shape: [1, 5, 4], values: Array(repeating: 2, count: 20)))
        #expect(constant.values.allSatisfy { $0 == 2 })
    }

    @Test func badInputsAreOneLineErrors() throws {
        let setup = try PatchPerturbation(pixels: Self.image, patchSize: 2)
        #expect(throws: FaithfulnessError.mapShape(found: [3, 4], expected: [4, 4])) { try setup.order(map: Tensor(zeros: [3, 4])) }
        var nan = Self.effects
        nan.values[5] = .nan
        #expect(throws: FaithfulnessError.nonFiniteMap(index: 5)) { try setup.order(map: nan) }
        #expect(throws: FaithfulnessError.steps(0, patches: 16)) { try PatchPerturbation(pixels: Self.image, patchSize: 2, steps: 0) }
        #expect(throws: FaithfulnessError.steps(17, patches: 16)) { try PatchPerturbation(pixels: Self.image, patchSize: 2, steps: 17) }
        #expect(throws: FaithfulnessError.blurRadius(0)) { try PatchPerturbation(pixels: Self.image, patchSize: 2, baseline: .boxBlur(radius: 0)) }
        #expect(throws: FaithfulnessError.pixelShape([8, 8], patchSize: 2)) { try PatchPerturbation(pixels: Tensor(zeros: [8, 8]), patchSize: 2) }
        #expect(throws: FaithfulnessError.order(patches: 16)) { try setup.deletion(order: [0, 0] + Array(2 ..< 16), evaluate: Self.f) }
        #expect(throws: FaithfulnessError.randomOrders(0)) { try setup.randomOrders(count: 0, seed: 1) }
        #expect(throws: FaithfulnessError.nonFiniteTarget(step: 0)) { try setup.deletion(order: Array(0 ..< 16)) { _ in .infinity } }
        for e: FaithfulnessError in [.mapShape(found: [3, 4], expected: [4, 4]), .steps(0, patches: 16), .nonFiniteMap(index: 5)] {
            #expect(!e.description.isEmpty && !e.description.contains("\n"))
        }
    }

    @Test func reportCSVAndJSON() throws {
        let setup = try PatchPerturbation(pixels: Self.image, patchSize: 2, steps: 4)
        var report = try setup.report(target: "linear", methods: [("a,b", Self.effects)], randomOrders: 2, seed: 1, evaluate: Self.f)
        report.sanity = [.init(method: "a,b", randomization: "all", seed: 3, spearman: 0.25)]
        let curves = report.curvesCSV.split(separator: "\n")
        #expect(curves.first == "method,curve,fraction,value")
        #expect(curves.count == 1 + 4 * 5)
        #expect(curves[1] == "\"a,b\",deletion,0.0,\(Double(Self.f(Self.image)))")
        let summary = report.summaryCSV.split(separator: "\n")
        #expect(summary.count == 3)
        #expect(summary[1] == "\"a,b\",\(report.methods[0].curves.deletionAUC),\(report.methods[0].curves.insertionAUC),0.25")
        let decoded = try JSONDecoder().decode(FaithfulnessReport.self, from: try JSONEncoder().encode(report))
        #expect(decoded == report)
    }
}
