import Foundation

/// `vitlens merge`: combines the `stats_state.json` of every shard of a sharded `vitlens stats` run
/// into the state a single run over all inputs would have (Chan et al.'s formulas for the moments,
/// sums for the counts), then ``StatsReport`` writes the same files.
///
/// Shards are combined in shard order whatever the order of the folders, so the result does not
/// depend on it. Refused, with one line naming the folder: a folder without a state, a state of
/// another format or version, another ViTLens version, model, size, threshold or input list, a
/// shard given twice, a shard missing, a shard that has not finished.
public struct MergeJob: Sendable {
    public init() {}

    /// Reads the state of each folder and merges them.
    public func run(folders: [String]) throws -> StatsState {
        var states: [(folder: String, state: StatsState)] = []
        for folder in folders {
            let url = URL(fileURLWithPath: folder).appendingPathComponent(StatsState.fileName)
            guard FileManager.default.fileExists(atPath: url.path) else {
                throw StatsError.mergeRefused(folder: folder, reason: "no \(StatsState.fileName) (not the --out of a vitlens stats run)")
            }
            states.append((folder, try StatsState.read(url)))
        }
        return try merge(states)
    }

    /// Merges states already read (`folder` names each in errors).
    public func merge(_ states: [(folder: String, state: StatsState)]) throws -> StatsState {
        guard let first = states.first else { throw StatsError.mergeRefused(folder: "merge", reason: "no folders given") }
        let n = first.state.shard.count
        var byIndex: [Int: (folder: String, state: StatsState)] = [:]
        for entry in states {
            let s = entry.state
            if let d = first.state.identity.difference(from: s.identity) {
                throw StatsError.mergeRefused(folder: entry.folder, reason: "a different run than \(first.folder): \(d)")
            }
            guard s.shard.count == n else {
                throw StatsError.mergeRefused(folder: entry.folder, reason: "shard \(s.shard), but \(first.folder) is shard \(first.state.shard) (different N)")
            }
            if let other = byIndex[s.shard.index] {
                throw StatsError.mergeRefused(folder: entry.folder, reason: "shard \(s.shard) is given twice (also \(other.folder))")
            }
            guard s.finished else {
                throw StatsError.mergeRefused(folder: entry.folder, reason: "shard \(s.shard) is unfinished (\(s.done.count) of \(s.shardInputs) inputs done); run it again to resume")
            }
            byIndex[s.shard.index] = entry
        }
        let missing = (0 ..< n).filter { byIndex[$0] == nil }
        guard missing.isEmpty else {
            let names = missing.prefix(5).map { "\($0)/\(n)" }.joined(separator: ", ") + (missing.count > 5 ? ", ..." : "")
            throw StatsError.mergeRefused(folder: first.folder, reason: "shard\(missing.count == 1 ? "" : "s") \(names) missing: merge needs all \(n) shards")
        }
        let ordered = (0 ..< n).compactMap { byIndex[$0] }
        var merged = StatsState(identity: first.state.identity, provenance: ordered[0].state.provenance, shard: .whole, shardInputs: first.state.identity.inputCount)
        for (folder, s) in ordered {
            merged.done += s.done
            merged.failures += s.failures
            guard let stats = s.statistics else { continue }
            do {
                if merged.statistics == nil { merged.statistics = stats } else { try merged.statistics?.merge(stats) }
            } catch let e as StatisticsError {
                throw StatsError.mergeRefused(folder: folder, reason: e.description)
            }
        }
        merged.done.sort()
        merged.failures.sort { $0.index < $1.index }
        merged.complete = true
        return merged
    }
}
