import Foundation
import Testing
import ViTLens
import ViTLensTestSupport

/// StatsJob, MergeJob and checkpoints on the tiny DINOv2-with-registers fixture: merges of 1, 2, 3
/// and 7 shards equal the single run, resumes never count an image twice, bad merges are refused.
@Suite("Stats job", .serialized)
struct StatsJobTests {
    static let model = Fixtures.url("models/dinov2-reg").path

    /// `count` small seeded PNGs plus a truncated PNG, a text file named .png and a note (skipped).
    static func imageFolder(_ count: Int) throws -> URL {
        let dir = try temporaryFolder("stats")
        var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> UInt8 {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: seed >> 56)
        }
        for i in 0 ..< count {
            let w = 40 + (i % 3) * 8, h = 44 + (i % 2) * 10
            var image = RGBImage(width: w, height: h)
            for k in 0 ..< image.pixels.count { image.pixels[k] = next() / UInt8(1 + i % 4) }
            try ImageIO.writePNG(image, to: dir.appendingPathComponent(String(format: "img%02d.png", i)))
        }
        let good = try Data(contentsOf: dir.appendingPathComponent("img00.png"))
        try good.prefix(good.count / 2).write(to: dir.appendingPathComponent("truncated.png"))
        try Data("not an image".utf8).write(to: dir.appendingPathComponent("text.png"))
        try Data("notes".utf8).write(to: dir.appendingPathComponent("notes.txt"))
        return dir
    }

    static func runShard(_ session: AnalysisSession, _ list: InputList, _ shard: Shard, threshold: Double = 4) throws -> StatsState {
        var job = StatsJob()
        job.batchSize = 1  // exactness across runs: batches regroup images, which moves the last bits
        job.shard = shard
        job.outlierThreshold = threshold
        var state = try job.start(session, list: list, resume: nil)
        try job.run(session, list: list, state: &state)
        return state
    }

    /// Same images, failures and counts exactly; means and variances to 1e-6 relative (other suites
    /// running at once may change the BLAS thread count, and with it the last bits of a forward).
    static func expectSame(_ a: StatsState, _ b: StatsState, _ what: String, meanTolerance: Double = 1e-6, varianceTolerance: Double = 1e-6) throws {
        let x = try #require(a.statistics), y = try #require(b.statistics)
        #expect(x.images == y.images, "\(what)")
        #expect(a.done == b.done && a.failures == b.failures, "\(what)")
        #expect(x.normHistogram == y.normHistogram && x.outlierPositions == y.outlierPositions, "\(what)")
        for kind in x.kinds {
            let m = try #require(x.moments[kind]), n = try #require(y.moments[kind])
            #expect(m.count == n.count)
            for c in 0 ..< m.cells {
                #expect(abs(m.mean[c] - n.mean[c]) <= meanTolerance * max(abs(n.mean[c]), 1e-12), "\(what) \(kind.rawValue)[\(c)] mean")
                let (v, w) = (m.variance(c), n.variance(c))
                #expect(abs(v - w) <= varianceTolerance * max(abs(w), 1e-12) || abs(v - w) < 1e-15, "\(what) \(kind.rawValue)[\(c)] variance \(v) vs \(w)")
            }
        }
    }

    @Test func batchedRunsEqualTheOneImageRun() throws {
        let dir = try Self.imageFolder(9)
        defer { try? FileManager.default.removeItem(at: dir) }
        let session = try AnalysisSession(model: Self.model)
        let list = try InputList(expanding: [dir.path])
        let one = try Self.runShard(session, list, .whole)
        #expect(one.failures.count == 2 && one.statistics?.images == 9)
        for b in [2, 4, 16] {
            var job = StatsJob()
            job.batchSize = .fixed(b)
            var state = try job.start(session, list: list, resume: nil)
            try job.run(session, list: list, state: &state)
            // A batched forward equals the single one to 1e-6 relative (OpenBLAS's GEMM sums depend on
            // the row count); the per-image statistics inherit that, and a variance of values that differ
            // by 1e-6 of their size moves by a few 1e-6 of itself (measured: at most 2.5e-6).
            try Self.expectSame(state, one, "batch size \(b)", meanTolerance: 1e-5, varianceTolerance: 1e-4)
        }
    }

    @Test func mergesOfOneTwoThreeAndSevenShardsEqualTheSingleRun() throws {
        let dir = try Self.imageFolder(12)
        defer { try? FileManager.default.removeItem(at: dir) }
        let session = try AnalysisSession(model: Self.model)
        let list = try InputList(expanding: [dir.path])
        #expect(list.count == 14)
        let single = try Self.runShard(session, list, .whole)
        #expect(single.complete && single.images == 12 && single.failures.map(\.index) == [12, 13])
        #expect(single.failures.map { URL(fileURLWithPath: $0.file).lastPathComponent } == ["text.png", "truncated.png"])
        let stats = try #require(single.statistics)
        #expect(stats.layout.registerIndices.count == 4 && stats.kinds.contains(.prefixMass))
        for n in [1, 2, 3, 7] {
            var shards = try (0 ..< n).map { try Self.runShard(session, list, Shard(index: $0, count: n)) }
            #expect(shards.allSatisfy { $0.complete == (n == 1) })
            shards.reverse()  // any order
            let merged = try MergeJob().merge(shards.enumerated().map { ("shard\($0.offset)", $0.element) })
            try Self.expectSame(merged, single, "\(n) shards")
            #expect(merged.complete && merged.shard == .whole)
            // The written files agree too: the same histogram CSV, arrays within 1e-6.
            let a = try StatsReport.product(merged), b = try StatsReport.product(single)
            #expect(a.files.map(\.name) == b.files.map(\.name))
            if case .bytes(let x)? = a.content(of: "token_norm_histogram.csv"), case .bytes(let y)? = b.content(of: "token_norm_histogram.csv") { #expect(x == y) }
            else { Issue.record("no histogram") }
            if case .array(let x)? = a.content(of: "mean_attention_distance.npy"), case .array(let y)? = b.content(of: "mean_attention_distance.npy") {
                #expect(x.shape == [2, 2])
                for (u, v) in zip(x.values, y.values) { #expect(abs(u - v) <= 1e-6 * abs(v)) }
            } else { Issue.record("no mean_attention_distance.npy") }
        }
    }

    @Test func mergeRefusesMissingDuplicateUnfinishedAndForeignShards() throws {
        let dir = try Self.imageFolder(4)
        defer { try? FileManager.default.removeItem(at: dir) }
        let session = try AnalysisSession(model: Self.model)
        let list = try InputList(expanding: [dir.path])
        let s0 = try Self.runShard(session, list, Shard(index: 0, count: 3)), s1 = try Self.runShard(session, list, Shard(index: 1, count: 3))
        let s2 = try Self.runShard(session, list, Shard(index: 2, count: 3))
        func refusal(_ states: [(String, StatsState)]) -> String {
            do { _ = try MergeJob().merge(states); return "" } catch { return "\(error)" }
        }
        #expect(refusal([("a", s0), ("b", s1)]) == "a: shard 2/3 missing: merge needs all 3 shards")
        #expect(refusal([("a", s0), ("b", s1), ("c", s1)]) == "c: shard 1/3 is given twice (also b)")
        var unfinished = s2
        unfinished.done.removeLast()
        #expect(refusal([("a", s0), ("b", s1), ("c", unfinished)]).hasPrefix("c: shard 2/3 is unfinished"))
        let other = try Self.runShard(session, list, Shard(index: 2, count: 3), threshold: 3)
        #expect(refusal([("a", s0), ("b", s1), ("c", other)]) == "c: a different run than a: outlier threshold 3.0, not 4.0")
        let half = try Self.runShard(session, list, Shard(index: 1, count: 2))
        #expect(refusal([("a", s0), ("b", half)]) == "b: shard 1/2, but a is shard 0/3 (different N)")
        #expect(refusal([("a", s0), ("b", s1), ("c", s2)]).isEmpty)
        let folder = try temporaryFolder("merge-none")
        defer { try? FileManager.default.removeItem(at: folder) }
        #expect(throws: StatsError.mergeRefused(folder: folder.path, reason: "no stats_state.json (not the --out of a vitlens stats run)")) {
            try MergeJob().run(folders: [folder.path])
        }
    }

    /// A run stopped after its second checkpoint (as by kill -9 right after it) resumes from that
    /// checkpoint and ends with exactly the state of an uninterrupted run.
    @Test func anInterruptedRunResumesWithoutCountingAnImageTwice() throws {
        let dir = try Self.imageFolder(9)
        defer { try? FileManager.default.removeItem(at: dir) }
        let session = try AnalysisSession(model: Self.model)
        let list = try InputList(expanding: [dir.path])
        var job = StatsJob()
        job.batchSize = 1  // exactness across runs: batches regroup images, which moves the last bits
        job.checkpointEvery = 3
        let reference = try Self.runShard(session, list, .whole)
        struct Killed: Error {}
        var saved: StatsState?
        var state = try job.start(session, list: list, resume: nil)
        #expect(throws: Killed.self) {
            try job.run(session, list: list, state: &state, checkpoint: { s in
                saved = s
                if s.done.count >= 6 { throw Killed() }
            })
        }
        // Store and read back the checkpoint as the CLI does (JSON keeps doubles exactly).
        let out = try temporaryFolder("resume").appendingPathComponent("out")
        defer { try? FileManager.default.removeItem(at: out.deletingLastPathComponent()) }
        try StatsCheckpoint.save(try #require(saved), to: out.path, inputs: [dir.path], arguments: ["test"])
        let loaded = try #require(try StatsCheckpoint.load(from: out.path))
        #expect(loaded == saved && loaded.done.count == 6 && !loaded.complete)
        var resumed = try job.start(session, list: list, resume: loaded)
        var seen: [Int] = []
        try job.run(session, list: list, state: &resumed, progress: { if case .started(let item) = $0 { seen.append(item.index) } })
        #expect(seen == [6, 7, 8, 9, 10])
        try Self.expectSame(resumed, reference, "resumed")
        #expect(resumed.complete && resumed.identity == reference.identity)
        var other = job
        other.outlierThreshold = 5
        #expect(throws: StatsError.checkpointMismatch(file: StatsState.fileName, difference: "outlier threshold 4.0, not 5.0")) {
            try other.start(session, list: list, resume: loaded)
        }
        var sharded = job
        sharded.shard = try Shard(parsing: "0/2")
        #expect(throws: StatsError.checkpointMismatch(file: StatsState.fileName, difference: "shard 0/1, not 0/2")) {
            try sharded.start(session, list: list, resume: loaded)
        }
    }

    @Test func failFastStopsAtTheFirstBadImage() throws {
        let dir = try Self.imageFolder(2)
        defer { try? FileManager.default.removeItem(at: dir) }
        let session = try AnalysisSession(model: Self.model)
        let list = try InputList(expanding: [dir.path])
        var job = StatsJob()
        job.batchSize = 1  // exactness across runs: batches regroup images, which moves the last bits
        job.failFast = true
        var state = try job.start(session, list: list, resume: nil)
        #expect(throws: StatsError.self) { try job.run(session, list: list, state: &state) }
        #expect(state.images == 2 && state.failures.count == 1 && !state.complete)
    }
}
