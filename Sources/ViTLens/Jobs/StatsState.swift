import Foundation

/// The mergeable partial result of `vitlens stats`: `stats_state.json` in its output folder, also
/// its checkpoint while it runs.
///
/// A JSON object (format `vitlens-stats-state`, version 1) with the run's identity (model, input
/// size, outlier threshold, the digest of the whole sorted input list, the shard), which inputs of
/// the shard are done (successes and failures, by their index in the whole list), the failures,
/// and the ``DatasetStatistics`` (counts, means and M2 as doubles; JSON keeps every double exactly,
/// shortest round-trip form). Merging shards combines these with Chan's formulas.
public struct StatsState: Codable, Sendable, Equatable {
    /// The `format` value.
    public static let formatName = "vitlens-stats-state"
    /// The version this build writes and reads.
    public static let currentVersion = 1
    /// The file name in an output folder.
    public static let fileName = "stats_state.json"

    /// The run's identity: what must agree for a resume or a merge.
    public struct Identity: Codable, Sendable, Equatable {
        /// ViTLens release that wrote the state.
        public var vitlensVersion: String
        /// `model_type` of the config.
        public var modelType: String?
        /// The weights file's name and byte size, and the SHA-256 of `config.json`.
        public var weights: String
        public var weightsBytes: Int
        public var configSHA256: String
        /// `--size` as `[height, width]`, or nil for the processor's size.
        public var requestedSize: [Int]?
        public var outlierThreshold: Double
        /// Number of inputs in the whole sorted list and the FNV-1a 64-bit hash (16 hex digits) of their
        /// paths, each followed by a newline.
        public var inputCount: Int
        public var inputsDigest: String

        enum CodingKeys: String, CodingKey {
            case vitlensVersion = "vitlens_version", modelType = "model_type", weights, weightsBytes = "weights_bytes"
            case configSHA256 = "config_sha256", requestedSize = "requested_size", outlierThreshold = "outlier_threshold"
            case inputCount = "input_count", inputsDigest = "inputs_fnv1a64"
        }

        /// The first field in which `other` differs, as `other's value, not this one's`; nil when they agree.
        public func difference(from other: Identity) -> String? {
            if vitlensVersion != other.vitlensVersion { return "ViTLens version \(other.vitlensVersion), not \(vitlensVersion)" }
            if modelType != other.modelType || weights != other.weights || weightsBytes != other.weightsBytes || configSHA256 != other.configSHA256 {
                return "model \(other.modelType ?? "?") (\(other.weights), \(other.weightsBytes) bytes), not \(modelType ?? "?") (\(weights), \(weightsBytes) bytes)"
            }
            if requestedSize != other.requestedSize {
                func s(_ v: [Int]?) -> String { v.map { "\($0[0])x\($0[1])" } ?? "the processor's size" }
                return "size \(s(other.requestedSize)), not \(s(requestedSize))"
            }
            if outlierThreshold != other.outlierThreshold { return "outlier threshold \(other.outlierThreshold), not \(outlierThreshold)" }
            if inputCount != other.inputCount || inputsDigest != other.inputsDigest {
                return "input list of \(other.inputCount) files (\(other.inputsDigest.prefix(12))), not \(inputCount) (\(inputsDigest.prefix(12)))"
            }
            return nil
        }
    }

    /// One input that failed: its index in the whole list, the file and the one-line reason.
    public struct Failure: Codable, Sendable, Equatable {
        public var index: Int
        public var file: String
        public var reason: String
        public init(index: Int, file: String, reason: String) {
            self.index = index
            self.file = file
            self.reason = reason
        }
    }

    public var format = StatsState.formatName
    public var version = StatsState.currentVersion
    public var identity: Identity
    /// What produced the result (the first shard's, after a merge).
    public var provenance: Provenance
    /// The shard this state covers; a merged state has `0/1`.
    public var shard: Shard
    /// Inputs in this shard.
    public var shardInputs: Int
    /// Indices (in the whole list) of the inputs done, successes and failures, ascending.
    public var done: [Int]
    public var failures: [Failure]
    /// Nil until the first image succeeds.
    public var statistics: DatasetStatistics?
    /// Whether the state covers the whole list (a single run, or a merge of every shard).
    public var complete: Bool

    public init(identity: Identity, provenance: Provenance, shard: Shard, shardInputs: Int) {
        self.identity = identity
        self.provenance = provenance
        self.shard = shard
        self.shardInputs = shardInputs
        done = []
        failures = []
        statistics = nil
        complete = false
    }

    /// Whether every input of the shard is done.
    public var finished: Bool { done.count == shardInputs }
    /// Images accumulated.
    public var images: Int { statistics?.images ?? 0 }

    enum CodingKeys: String, CodingKey {
        case format, version, identity, provenance, shard, shardInputs = "shard_inputs", done, failures, statistics, complete
    }

    /// Reads and checks a state file.
    /// - Throws: ``StatsError/badState(file:reason:)`` naming the file: not JSON, another format or
    ///   version, inconsistent counts.
    public static func read(_ url: URL) throws -> StatsState {
        let data: Data
        do { data = try Data(contentsOf: url) } catch { throw StatsError.badState(file: url.path, reason: "cannot be read") }
        let state: StatsState
        do { state = try JSONDecoder().decode(StatsState.self, from: data) } catch let e as StatisticsError {
            throw StatsError.badState(file: url.path, reason: e.description)
        } catch {
            throw StatsError.badState(file: url.path, reason: "not a ViTLens stats state (\(Self.shortReason(error)))")
        }
        guard state.format == formatName else { throw StatsError.badState(file: url.path, reason: "format \"\(state.format)\" is not \(formatName)") }
        guard state.version == currentVersion else {
            throw StatsError.badState(file: url.path, reason: "version \(state.version); this build reads version \(currentVersion)")
        }
        let doneSet = Set(state.done)
        guard doneSet.count == state.done.count, state.done.allSatisfy({ $0 >= 0 && $0 < state.identity.inputCount && $0 % state.shard.count == state.shard.index }),
              state.identity.inputCount >= 0, state.shardInputs == Self.shardSize(state.identity.inputCount, state.shard),
              state.images + state.failures.count == state.done.count, state.failures.allSatisfy({ doneSet.contains($0.index) }) else {
            throw StatsError.badState(file: url.path, reason: "inconsistent counts (done inputs, images and failures do not add up)")
        }
        return state
    }

    /// FNV-1a 64 of `paths`, each followed by a newline, as 16 hex digits.
    public static func digest(_ paths: [String]) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for p in paths {
            for b in p.utf8 + [10] { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        }
        return String(h, radix: 16).leftPadded(to: 16)
    }

    /// Inputs of `shard` in a list of `count` (index mod `shard.count`).
    public static func shardSize(_ count: Int, _ shard: Shard) -> Int {
        count > shard.index ? (count - shard.index + shard.count - 1) / shard.count : 0
    }

    /// Pretty JSON with sorted keys.
    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }

    private static func shortReason(_ error: any Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, _): return "no \"\(key.stringValue)\""
        case DecodingError.typeMismatch(_, let c), DecodingError.valueNotFound(_, let c):
            return "bad \"\(c.codingPath.map(\.stringValue).joined(separator: "."))\""
        case DecodingError.dataCorrupted(let c): return c.codingPath.isEmpty ? "not JSON" : "bad \"\(c.codingPath.map(\.stringValue).joined(separator: "."))\""
        default: return "\(error)"
        }
    }
}

/// A stats or merge run that cannot go on: one line naming the file or folder.
public enum StatsError: Error, CustomStringConvertible, Equatable {
    case badState(file: String, reason: String)
    /// `--out` holds a checkpoint of another run.
    case checkpointMismatch(file: String, difference: String)
    /// Merge: a folder without a state, shards missing or given twice, states that disagree.
    case mergeRefused(folder: String, reason: String)
    /// No image of the list could be analysed.
    case noImages(failed: Int)
    /// `--fail-fast`: the first failure.
    case failedFast(file: String, reason: String)

    public var description: String {
        switch self {
        case .badState(let f, let r): return "\(f): \(r)"
        case .checkpointMismatch(let f, let d):
            return "\(f): the checkpoint is of another run (\(d)); use --force to start over, or another --out"
        case .mergeRefused(let f, let r): return "\(f): \(r)"
        case .noImages(let n): return "no image could be analysed (\(n) failed; see failures.csv)"
        case .failedFast(let f, let r): return "\(f): \(r) (--fail-fast)"
        }
    }
}

private extension String {
    func leftPadded(to width: Int) -> String { count >= width ? self : String(repeating: "0", count: width - count) + self }
}
