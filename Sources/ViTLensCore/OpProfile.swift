import CViTLensSystem
import Dispatch

/// A process-wide, off-by-default recorder of the time (and, for matrix products, the floating-point
/// operations) a forward pass spends per kind of operation (``Kind``): `vitlens bench --profile`.
///
/// A call site brackets one region: `let t = OpProfile.start()` ... `OpProfile.stop(.layerNorm, t)`
/// (``stopGEMM(_:_:m:n:k:)`` for a product, which adds `2 m n k` flops). While the recorder is
/// disabled `start()` is one load and a branch and returns 0, and `stop` with 0 does nothing: no
/// clock read, no allocation. While it is enabled each region adds its elapsed monotonic
/// nanoseconds to its kind's totals with atomic adds, so regions may run on several threads at once.
///
/// Kinds recorded on the attention pass's worker threads (``Kind/isThreaded``) add up the time of
/// every worker: their totals are thread-seconds, not wall time; the wall time of the whole pass is
/// ``Kind/attention``. The other kinds never overlap one another, so the forward's wall time minus
/// their sum is the time of everything not instrumented.
///
/// Enable it only around the passes to measure (``isEnabled`` is read without synchronisation; set it
/// while no pass runs) and read ``totals()`` afterwards.
public enum OpProfile {
    /// What a region of a forward pass does.
    public enum Kind: Int, CaseIterable, Sendable {
        /// The stacked Q/K/V Linear's matrix product.
        case qkvGEMM
        /// The attention output projection's matrix product.
        case attentionOutputGEMM
        /// The MLP's first (up) projection's product (SwiGLU: both halves).
        case mlpUpGEMM
        /// The MLP's second (down) projection's product.
        case mlpDownGEMM
        /// A Linear outside the encoder blocks (classifier, pooling head).
        case otherGEMM
        /// A Linear's bias added to its product's rows.
        case biasAdd
        /// LayerNorm (every one in the pass, the final one too).
        case layerNorm
        /// The MLP's non-linearity (GELU and relatives, SwiGLU's gate).
        case activation
        /// The residual add (with the layer scale where the model has one).
        case residual
        /// Copies outside the attention pass: the gradient tape's records, queries and keys split per head.
        case copies
        /// The NaN/infinity scans of the embeddings and of every block's output.
        case finiteChecks
        /// Observers' `begin`, `observe`, `observeHiddenState` and `finish` calls.
        case observers
        /// The whole attention pass of one layer and image, wall time (the threaded kinds run inside it).
        case attention
        /// `Q Kᵀ / sqrt(d)` per head and block of rows (threaded).
        case attentionScores
        /// The attention bias and the additive mask added to the scores (threaded).
        case attentionBias
        /// The NaN/infinity scan of the scores before the softmax (threaded).
        case attentionFiniteChecks
        /// The scores copied out as logits for observers that ask for them (threaded).
        case attentionCopies
        /// The row softmax (threaded).
        case softmax
        /// The observers' in-pass row statistics (threaded).
        case rowStatistics
        /// `P V` per head and block of rows (threaded).
        case attentionValues

        /// The key in reports, e.g. `gemm_qkv`.
        public var name: String {
            switch self {
            case .qkvGEMM: "gemm_qkv"
            case .attentionOutputGEMM: "gemm_attention_output"
            case .mlpUpGEMM: "gemm_mlp_up"
            case .mlpDownGEMM: "gemm_mlp_down"
            case .otherGEMM: "gemm_other"
            case .biasAdd: "bias_add"
            case .layerNorm: "layernorm"
            case .activation: "activation"
            case .residual: "residual_add"
            case .copies: "copies"
            case .finiteChecks: "finite_checks"
            case .observers: "observers"
            case .attention: "attention_pass"
            case .attentionScores: "attention_qk"
            case .attentionBias: "attention_bias_mask"
            case .attentionFiniteChecks: "attention_finite_checks"
            case .attentionCopies: "attention_logits_copy"
            case .softmax: "softmax"
            case .rowStatistics: "row_statistics"
            case .attentionValues: "attention_pv"
            }
        }

        /// Whether the kind runs on the attention pass's workers (totals in thread-seconds).
        public var isThreaded: Bool { rawValue >= Kind.attentionScores.rawValue }

        /// Whether the kind is a matrix product (its flops are counted).
        public var isGEMM: Bool {
            switch self {
            case .qkvGEMM, .attentionOutputGEMM, .mlpUpGEMM, .mlpDownGEMM, .otherGEMM, .attentionScores, .attentionValues: true
            default: false
            }
        }
    }

    /// One kind's totals since the last ``reset()``.
    public struct Entry: Sendable, Equatable {
        /// Elapsed nanoseconds (thread-nanoseconds for a threaded kind).
        public var nanoseconds: Int
        /// Floating-point operations (`2 m n k` per product; 0 for other kinds).
        public var flops: Int
        /// Regions recorded.
        public var calls: Int

        /// Totals of `calls` regions taking `nanoseconds` and doing `flops` together.
        public init(nanoseconds: Int, flops: Int, calls: Int) {
            (self.nanoseconds, self.flops, self.calls) = (nanoseconds, flops, calls)
        }
    }

    /// Every kind's totals.
    public struct Totals: Sendable {
        /// Indexed by ``Kind/rawValue``.
        public var entries: [Entry]
        /// The totals of `kind`.
        public subscript(kind: Kind) -> Entry { entries[kind.rawValue] }
        /// Whether nothing was recorded.
        public var isEmpty: Bool { entries.allSatisfy { $0.calls == 0 } }
    }

    /// Atomic totals per kind: the recorder's storage (one process-wide instance), usable on its own.
    public final class Counters: @unchecked Sendable {
        /// Three per kind: nanoseconds, flops, calls.
        private let slots: UnsafeMutablePointer<CLong>
        private static let count = 3 * Kind.allCases.count

        /// Zero totals.
        public init() {
            slots = .allocate(capacity: Counters.count)
            slots.initialize(repeating: 0, count: Counters.count)
        }

        deinit { slots.deallocate() }

        /// Adds one region of `kind` (safe from several threads at once).
        public func add(_ kind: Kind, nanoseconds: Int, flops: Int = 0) {
            let base = slots + 3 * kind.rawValue
            _ = vitlens_fetch_add(base, CLong(nanoseconds))
            if flops != 0 { _ = vitlens_fetch_add(base + 1, CLong(flops)) }
            _ = vitlens_fetch_increment(base + 2)
        }

        /// Sets every total to 0 (while nothing adds).
        public func reset() { slots.update(repeating: 0, count: Counters.count) }

        /// Every kind's totals (read after the adding threads are done).
        public func totals() -> Totals {
            Totals(entries: Kind.allCases.map { kind in
                let base = slots + 3 * kind.rawValue
                return Entry(nanoseconds: Int(vitlens_fetch_add(base, 0)), flops: Int(vitlens_fetch_add(base + 1, 0)),
                             calls: Int(vitlens_fetch_add(base + 2, 0)))
            })
        }
    }

    @usableFromInline nonisolated(unsafe) static var enabled = false

    private static let counters = Counters()

    /// Whether regions are recorded (default `false`). Set it while no forward pass runs.
    public static var isEnabled: Bool {
        get { enabled }
        set {
            _ = counters  // created before the first region
            enabled = newValue
        }
    }

    /// The start of a region: the monotonic clock in nanoseconds (never 0), or 0 while disabled.
    @inlinable @inline(__always)
    public static func start() -> UInt64 {
        guard enabled else { return 0 }
        return now()
    }

    /// Ends a region begun with ``start()`` at `start`, adding its time to `kind`; nothing when
    /// `start` is 0 (the recorder was disabled).
    @inlinable @inline(__always)
    public static func stop(_ kind: Kind, _ start: UInt64) {
        if start != 0 { add(kind, since: start, flops: 0) }
    }

    /// Ends a matrix product `[m, k] x [k, n]` begun at `start`: adds its time and `2 m n k` flops.
    @inlinable @inline(__always)
    public static func stopGEMM(_ kind: Kind, _ start: UInt64, m: Int, n: Int, k: Int) {
        if start != 0 { add(kind, since: start, flops: 2 &* m &* n &* k) }
    }

    @usableFromInline static func now() -> UInt64 { max(1, DispatchTime.now().uptimeNanoseconds) }

    @usableFromInline static func add(_ kind: Kind, since start: UInt64, flops: Int) {
        counters.add(kind, nanoseconds: Int(truncatingIfNeeded: now() &- start), flops: flops)
    }

    /// Sets every total to 0 (while no forward pass runs).
    public static func reset() { counters.reset() }

    /// Every kind's totals since the last ``reset()``.
    public static func totals() -> Totals { counters.totals() }
}
