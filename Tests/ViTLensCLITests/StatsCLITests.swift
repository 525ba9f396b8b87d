import Foundation
import Testing
import ViTLens
import ViTLensTestSupport

/// `vitlens stats` and `vitlens merge` end to end: outputs, failures and exit codes, shards merged
/// by the CLI, a resumed checkpoint, one-line refusals.
@Suite("Stats CLI", .serialized)
struct StatsCLITests {
    let model = StatsJobTests.model
    let never = ["VITLENS_PROGRESS": "never"]

    func names(_ dir: URL) -> [String] { ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).sorted() }

    func array(_ url: URL) throws -> [Float] { try NPY.read(url).floats }

    @Test func badImagesAreListedAndTheRunGoesOn() throws {
        let dir = try StatsJobTests.imageFolder(3)
        defer { try? FileManager.default.removeItem(at: dir) }
        let outs = try temporaryFolder("stats-out")
        defer { try? FileManager.default.removeItem(at: outs) }
        let out = outs.appendingPathComponent("out")
        let r = try CLI.run(["stats", dir.path, "--model", model, "--out", out.path], environment: never)
        #expect(r.status == 1, "\(r.stderr)")
        #expect(r.stderr.contains("2 of 5 images failed:"))
        let csv = try String(contentsOf: out.appendingPathComponent("failures.csv"), encoding: .utf8).split(separator: "\n")
        #expect(csv.count == 3 && csv[0] == "file,reason" && csv[1].hasPrefix(dir.path + "/text.png,") && csv[2].hasPrefix(dir.path + "/truncated.png,"))
        for name in ["mean_attention_distance.npy", "sink_share.npy", "prefix_mass.npy", "outlier_positions.npy", "stats.csv", "stats.json",
                     "stats_state.json", "token_norm_histogram.csv", "mean_attention_distance.svg", "mean_attention_distance.png",
                     "sink_share.png", "prefix_mass.svg", "token_norms.png"] {
            #expect(names(out).contains(name), "\(name)")
        }
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("stats.json"))) as! [String: Any]
        #expect(json["image_count"] as? Int == 3 && json["failure_count"] as? Int == 2 && json["shard"] as? String == "0/1")
        #expect(json["complete"] as? Bool == true && (json["ci_method"] as? String)?.hasPrefix("Student t") == true)
        #expect(try NPY.read(out.appendingPathComponent("prefix_mass.npy")).shape == [2, 2, 5])
        let again = try CLI.run(["stats", dir.path, "--model", model, "--out", out.path, "--allow-failures", "--quiet"], environment: never)
        #expect(again.status == 0 && again.stdout.isEmpty, "\(again.stderr)")
    }

    @Test func cliShardsMergeToTheSingleRun() throws {
        let dir = try StatsJobTests.imageFolder(5)
        defer { try? FileManager.default.removeItem(at: dir) }
        let outs = try temporaryFolder("stats-out")
        defer { try? FileManager.default.removeItem(at: outs) }
        let whole = outs.appendingPathComponent("whole"), merged = outs.appendingPathComponent("merged")
        #expect(try CLI.run(["stats", dir.path, "--model", model, "--out", whole.path, "--allow-failures"], environment: never).status == 0)
        var shards: [String] = []
        for i in 0 ..< 3 {
            let out = outs.appendingPathComponent("shard\(i)")
            let r = try CLI.run(["stats", dir.path, "--model", model, "--out", out.path, "--shard", "\(i)/3", "--quiet", "--allow-failures"], environment: never)
            #expect(r.status == 0, "\(r.stderr)")
            let json = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("stats.json"))) as! [String: Any]
            #expect(json["shard"] as? String == "\(i)/3" && json["complete"] as? Bool == false)
            shards.append(out.path)
        }
        let r = try CLI.run(["merge"] + shards.reversed() + ["--out", merged.path], environment: never)
        #expect(r.status == 0, "\(r.stderr)")
        for name in ["mean_attention_distance.npy", "attention_entropy.npy", "sink_share.npy", "token_norm_mean.npy"] {
            let a = try array(merged.appendingPathComponent(name)), b = try array(whole.appendingPathComponent(name))
            #expect(a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= 1e-6 * max(abs($1), 1e-6) }, "\(name)")
        }
        #expect(try Data(contentsOf: merged.appendingPathComponent("token_norm_histogram.csv")) == Data(contentsOf: whole.appendingPathComponent("token_norm_histogram.csv")))
        #expect(try Data(contentsOf: merged.appendingPathComponent("failures.csv")) == Data(contentsOf: whole.appendingPathComponent("failures.csv")))
        let missing = try CLI.run(["merge", shards[0], shards[2], "--out", outs.appendingPathComponent("m2").path], environment: never)
        #expect(missing.status != 0 && missing.stderr.split(separator: "\n").count == 1, "\(missing.stderr)")
        #expect(missing.stderr.contains("\(shards[0]): shard 1/3 missing"))
        let bad = try CLI.run(["stats", dir.path, "--model", model, "--out", outs.appendingPathComponent("x").path, "--shard", "3/3"], environment: never)
        #expect(bad.status != 0 && bad.stderr.contains("--shard 3/3: expected I/N with 0 <= I < N"))
    }

    /// The CLI resumes from a checkpoint left in --out (as a kill -9 after a checkpoint leaves it) and
    /// writes what an uninterrupted run writes.
    @Test func theCLIResumesACheckpoint() throws {
        let dir = try StatsJobTests.imageFolder(6)
        defer { try? FileManager.default.removeItem(at: dir) }
        let outs = try temporaryFolder("stats-out")
        defer { try? FileManager.default.removeItem(at: outs) }
        let fresh = outs.appendingPathComponent("fresh"), resumed = outs.appendingPathComponent("resumed")
        #expect(try CLI.run(["stats", dir.path, "--model", model, "--out", fresh.path, "--allow-failures"], environment: never).status == 0)
        let session = try AnalysisSession(model: model)
        let list = try InputList(expanding: [dir.path])
        var job = StatsJob()
        job.batchSize = 1
        job.checkpointEvery = 4
        var state = try job.start(session, list: list, resume: nil)
        struct Killed: Error {}
        _ = try? job.run(session, list: list, state: &state, checkpoint: { s in
            try StatsCheckpoint.save(s, to: resumed.path, inputs: [dir.path], arguments: ["stats"])
            throw Killed()
        })
        #expect(try StatsCheckpoint.load(from: resumed.path)?.done.count == 4)
        let r = try CLI.run(["stats", dir.path, "--model", model, "--out", resumed.path, "--allow-failures"], environment: ["VITLENS_PROGRESS": "always"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("img/s"), "\(r.stderr)")
        let a = try StatsState.read(resumed.appendingPathComponent("stats_state.json")), b = try StatsState.read(fresh.appendingPathComponent("stats_state.json"))
        // The resumed half ran in this test process (whose BLAS threads other suites may change):
        // counts exactly, means to 1e-5 relative.
        #expect(a.done == b.done && a.failures == b.failures && a.images == b.images)
        let x = try #require(a.statistics), y = try #require(b.statistics)
        for kind in y.kinds {
            let m = try #require(x.moments[kind]), n = try #require(y.moments[kind])
            #expect(m.count == n.count && zip(m.mean, n.mean).allSatisfy { abs($0 - $1) <= 1e-5 * max(abs($1), 1e-6) }, "\(kind.rawValue)")
        }
        // Another threshold on the same folder: refused in one line, unless --force.
        let other = try CLI.run(["stats", dir.path, "--model", model, "--out", resumed.path, "--outlier-threshold", "6"], environment: never)
        #expect(other.status != 0 && other.stderr.contains("the checkpoint is of another run (outlier threshold 4.0, not 6.0)"), "\(other.stderr)")
        let forced = try CLI.run(["stats", dir.path, "--model", model, "--out", resumed.path, "--outlier-threshold", "6", "--force", "--allow-failures"], environment: never)
        #expect(forced.status == 0, "\(forced.stderr)")
    }
}
