import Foundation

/// How much memory a run may take, and the estimate it is checked against before a forward pass.
///
/// A forward pass at a large input size can need more memory than the machine has (one DINO ViT-S/8
/// layer at 480x480 is 311 MB of attention; all twelve, kept for `dump`, 3.7 GB; at 1,792x1,792 the
/// twelve are 52 GB). Rather than letting the allocator abort half-way, the models estimate the peak
/// (weights + forward activations + what the observers keep) and refuse with ``MemoryLimitError``
/// naming the estimate, the limit and the way out.
public enum MemoryBudget {
    nonisolated(unsafe) private static var _limit = defaultLimit

    /// The limit in bytes for everything a run holds; `--max-memory` sets it. Defaults to
    /// ``defaultLimit``.
    public static var limit: Int {
        get { _limit }
        set { _limit = max(0, newValue) }
    }

    /// 80% of the physical memory (or of the cgroup's `memory.max` when that is lower), leaving room
    /// for the system and other processes.
    public static var defaultLimit: Int {
        var total = Int(clamping: ProcessInfo.processInfo.physicalMemory)
        if let text = try? String(contentsOfFile: "/sys/fs/cgroup/memory.max", encoding: .utf8),
           let cgroup = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)), cgroup > 0 {
            total = min(total, cgroup)
        }
        return Int(Double(total) * 0.8)
    }

    /// Parses a size such as `8G`, `512M`, `1.5GB`, `20GiB` or a plain number of bytes (powers of
    /// 1,024 for K, M, G, T). Returns nil for anything else.
    public static func parse(_ text: String) -> Int? {
        var s = text.trimmingCharacters(in: .whitespaces).uppercased()
        for suffix in ["IB", "B"] where s.hasSuffix(suffix) && s.count > suffix.count { s.removeLast(suffix.count); break }
        var scale = 1.0
        if let last = s.last, let power = ["K": 1, "M": 2, "G": 3, "T": 4][String(last)] {
            scale = pow(1024, Double(power))
            s.removeLast()
        }
        guard let v = Double(s), v.isFinite, v > 0, v * scale < 9e18 else { return nil }
        return Int(v * scale)
    }

    /// `bytes` as a short human-readable size (`1.2 GB`, `340 MB`), powers of 1,024.
    public static func describe(_ bytes: Int) -> String {
        let b = Double(bytes)
        let gb = Double(1 << 30), mb = Double(1 << 20)
        if b >= gb { return String(format: "%.1f GB", b / gb) }
        if b >= mb { return String(format: "%.0f MB", b / mb) }
        return String(format: "%.0f KB", max(1, b / 1024))
    }
}

/// The estimated peak memory of one forward pass with its observers.
public struct MemoryEstimate: Sendable, Equatable {
    /// Model weights as float32.
    public var weights: Int
    /// Activations and scratch of the forward pass (one layer's attention, hidden states, MLP).
    public var forward: Int
    /// What the observers keep (a recorder's every-layer attention, rollout's stored layers, ...).
    public var observers: Int
    /// Tokens of the input.
    public var tokens: Int

    public init(weights: Int, forward: Int, observers: Int, tokens: Int) {
        self.weights = weights
        self.forward = forward
        self.observers = observers
        self.tokens = tokens
    }

    /// The sum (saturating: an overflowing estimate is `Int.max`).
    public var total: Int {
        Limits.sum(weights, forward, observers).flatMap { Limits.sum($0, Self.baseline) } ?? .max
    }

    /// The runtime, libraries and BLAS buffers, measured at about 60-90 MB here; counted as 128 MB.
    public static let baseline = 128 << 20

    /// Throws ``MemoryLimitError`` when ``total`` is above `limit`.
    public func check(limit: Int = MemoryBudget.limit) throws {
        if total > limit { throw MemoryLimitError(estimate: self, limit: limit) }
    }

    /// `4 * product(factors)` bytes of float32, saturating at `Int.max` on overflow.
    public static func floats(_ factors: Int...) -> Int {
        Limits.product([4] + factors) ?? .max
    }
}

/// A run that would need more memory than allowed: one line with the estimate, the limit and the
/// way out.
public struct MemoryLimitError: Error, CustomStringConvertible, Equatable {
    public var estimate: MemoryEstimate
    public var limit: Int

    public var description: String {
        let e = estimate
        var parts = ["weights \(MemoryBudget.describe(e.weights))", "forward \(MemoryBudget.describe(e.forward))"]
        if e.observers > 0 { parts.append("kept for the outputs \(MemoryBudget.describe(e.observers))") }
        let total = e.total == .max ? "more than can be counted" : "about \(MemoryBudget.describe(e.total))"
        return "needs \(total) for \(e.tokens) tokens (\(parts.joined(separator: ", "))), above the limit of "
            + "\(MemoryBudget.describe(limit)) (--max-memory): use a smaller --size, an analysis that keeps less "
            + "(heads, rollout, distance instead of dump; fewer --with arrays), or fewer layers (--first-layer, --last-layer)"
    }
}
