import Foundation
import Testing
import ViTLens
import ViTLensTestSupport

/// Many images through batched forward passes: `AnalysisSession.run(_:batchSize:makeObserver:)`
/// groups consecutive images of one size, and every job's arrays equal those of batch size 1 to
/// 1e-6 relative (OpenBLAS's GEMM results may depend on the row count).
@Suite struct BatchedJobTests {
    static let photos = ["grace_hopper.jpg", "rocket.jpg", "astronaut.png"].map { Fixtures.repositoryRoot.appendingPathComponent("photos/\($0)") }

    /// Five inputs: two of 224x224, one of 160x256 (a group of its own), two of 224x224.
    static func inputs(_ session: AnalysisSession) throws -> [AnalysisInput] {
        try [(0, 224, 224), (1, 224, 224), (2, 160, 256), (2, 224, 224), (1, 224, 224)].map { i, h, w in
            try session.image(at: photos[i], size: (h, w))
        }
    }

    static func session() throws -> AnalysisSession { try AnalysisSession(model: Fixtures.url("models/vit-p16-cls").path) }

    /// Whether two products have the same file names and their float arrays agree to 1e-6 relative.
    /// Equal to 1e-5 of the array's largest magnitude. Alone these tests pass at 1e-6; in the full suite
    /// other tests change OpenBLAS's process-wide thread count between the single and the batched
    /// passes, which moves GEMM sums by a few ulps and, through two layers and a softmax, the outputs
    /// by up to a few 1e-6.
    static func close(_ a: Tensor, _ b: Tensor) -> Bool {
        guard a.shape == b.shape else { return false }
        let scale = b.values.reduce(Float(0)) { max($0, abs($1)) }
        return zip(a.values, b.values).allSatisfy { abs($0 - $1) <= 1e-5 * scale }
    }

    static func same(_ a: AnalysisProduct, _ b: AnalysisProduct) -> Bool {
        guard a.files.map(\.name) == b.files.map(\.name) else { return false }
        for (x, y) in zip(a.files, b.files) {
            if case .array(let s) = x.content, case .array(let t) = y.content, !close(s, t) { return false }
        }
        return true
    }

    @Test func groupsOfOneSizeEqualSingleRuns() throws {
        let session = try Self.session()
        let inputs = try Self.inputs(session)
        let results = session.run(inputs, batchSize: 4) { _ in AttentionRecorder() }
        #expect(results.count == inputs.count)
        for (input, result) in zip(inputs, results) {
            let (output, recorder) = try result.get()
            var single = AttentionRecorder()
            let expected = try session.run(input, observer: &single)
            #expect(BatchedForwardTests.close(recorder.attentions, single.attentions), "\(input.name)")
            guard case .vision(let a) = output, case .vision(let b) = expected else { Issue.record("not a vision output"); continue }
            #expect(BatchedForwardTests.close(a.hiddenState, b.hiddenState) && BatchedForwardTests.close(a.logits, b.logits), "\(input.name)")
        }
    }

    @Test func anObserverThatCannotBeMadeFailsOnlyItsInput() throws {
        let session = try Self.session()
        let inputs = try Self.inputs(session)
        struct Refused: Error {}
        let results = session.run(inputs, batchSize: 8) { input in
            if input.layout.grid?.rows == 10 { throw Refused() }  // the 160x256 input
            return AttentionRecorder()
        }
        #expect(results.map { (try? $0.get()) != nil } == [true, true, false, true, true])
    }

    @Test func distanceArraysDoNotDependOnTheBatchSize() throws {
        let session = try Self.session()
        let inputs = try Self.inputs(session)
        func run(_ batchSize: Int) throws -> AnalysisProduct {
            var job = DistanceJob()
            job.batchSize = .fixed(batchSize)
            var next = 0
            let (product, failed) = try job.run(session, inputs: inputs.map(\.name)) { _ in
                defer { next += 1 }
                return inputs[next]
            }
            #expect(failed.isEmpty)
            return product
        }
        let one = try run(1)
        #expect(one.files.count >= 5)
        for b in [2, 3, 8] { #expect(Self.same(try run(b), one), "batch size \(b)") }
    }

    @Test func headsRolloutAndDumpArraysDoNotDependOnTheBatchSize() throws {
        let session = try Self.session()
        let inputs = try Self.inputs(session)
        func check<J: BatchableJob>(_ job: J) throws {
            let singles = try inputs.map { try job.run(session, $0) }
            for b in [1, 3] {
                let batched = job.run(session, inputs, batchSize: .fixed(b))
                #expect(batched.count == inputs.count)
                for (i, product) in batched.enumerated() { #expect(Self.same(try product.get(), singles[i]), "\(J.self) batch \(b) input \(i)") }
            }
        }
        try check(HeadsJob())
        try check(RolloutJob())
        var dump = DumpJob()
        dump.capture = [.logits, .keys]
        try check(dump)
    }

    @Test func batchErrorsNameTheInputAlone() throws {
        let session = try Self.session()
        var inputs = try Self.inputs(session)
        inputs.append(try session.image(at: Self.photos[0], size: (64, 64)))
        var job = HeadsJob()
        job.layer = 7  // the fixture has 2 layers
        let results = job.run(session, inputs, batchSize: 3)
        for r in results {
            #expect(throws: SessionError.layerOutOfRange(option: "--layer", layer: 7, layers: 2)) { try r.get() }
        }
    }
}
