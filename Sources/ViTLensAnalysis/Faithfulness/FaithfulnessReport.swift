/// Deletion and insertion results of several explanation methods on one image and target, with
/// the random-order baseline and the model-randomisation sanity correlations (Codable: JSON as is).
public struct FaithfulnessReport: Sendable, Equatable, Codable {
    /// One method's curves.
    public struct Method: Sendable, Equatable, Codable {
        /// The method's name (e.g. "chefer", "rollout").
        public var name: String
        /// Its deletion and insertion curves.
        public var curves: FaithfulnessCurvePair

        /// A method's result from its curves.
        public init(name: String, curves: FaithfulnessCurvePair) {
            self.name = name
            self.curves = curves
        }
    }

    /// The mean curves of seeded random patch orders.
    public struct RandomBaseline: Sendable, Equatable, Codable {
        /// Number of random orders averaged.
        public var orders: Int
        /// The seed of ``SeededRandom`` that drew them.
        public var seed: UInt64
        /// The mean deletion and insertion curves.
        public var curves: FaithfulnessCurvePair

        /// A baseline from its mean curves.
        public init(orders: Int, seed: UInt64, curves: FaithfulnessCurvePair) {
            self.orders = orders
            self.seed = seed
            self.curves = curves
        }
    }

    /// Spearman correlation between a method's map on the model and on a weight-shuffled copy.
    public struct SanityCorrelation: Sendable, Equatable, Codable {
        /// The method's name.
        public var method: String
        /// Which weights were shuffled (e.g. "all", "top-2").
        public var randomization: String
        /// The shuffle's seed.
        public var seed: UInt64
        /// ``SpearmanCorrelation/value(_:_:)`` of the two maps (near 1: the map ignores the weights).
        public var spearman: Double

        /// A correlation record.
        public init(method: String, randomization: String, seed: UInt64, spearman: Double) {
            self.method = method
            self.randomization = randomization
            self.seed = seed
            self.spearman = spearman
        }
    }

    /// The target evaluated (e.g. "class 3", "pooled cosine").
    public var target: String
    /// ``PerturbationBaseline/name`` of the baseline.
    public var baseline: String
    /// Perturbation steps per curve.
    public var steps: Int
    /// Patches in the grid.
    public var patches: Int
    /// Model forwards run for all curves (one per curve point).
    public var forwards: Int
    /// Per method, in the order given.
    public var methods: [Method]
    /// The random-order baseline, when computed.
    public var random: RandomBaseline?
    /// Sanity-check correlations, when computed.
    public var sanity: [SanityCorrelation]

    /// A report from its parts.
    public init(target: String, baseline: String, steps: Int, patches: Int, forwards: Int,
                methods: [Method], random: RandomBaseline?, sanity: [SanityCorrelation] = []) {
        self.target = target
        self.baseline = baseline
        self.steps = steps
        self.patches = patches
        self.forwards = forwards
        self.methods = methods
        self.random = random
        self.sanity = sanity
    }

    /// Every curve point as CSV: header `method,curve,fraction,value`, one row per point
    /// (the random baseline's method is `random`), numbers with full precision.
    public var curvesCSV: String {
        var rows = ["method,curve,fraction,value"]
        func add(_ name: String, _ kind: String, _ c: FaithfulnessCurve) {
            for (x, y) in zip(c.fractions, c.values) { rows.append("\(Self.csvField(name)),\(kind),\(x),\(y)") }
        }
        for (name, c) in methods.map({ ($0.name, $0.curves) }) + (random.map { [("random", $0.curves)] } ?? []) {
            add(name, "deletion", c.deletion)
            add(name, "insertion", c.insertion)
        }
        return rows.joined(separator: "\n") + "\n"
    }

    /// One row per method (and `random`) as CSV: `method,deletion_auc,insertion_auc,spearman`
    /// (the last empty without a sanity correlation; the first one recorded for the method otherwise).
    public var summaryCSV: String {
        var rows = ["method,deletion_auc,insertion_auc,spearman"]
        for m in methods {
            let rho = sanity.first { $0.method == m.name }.map { "\($0.spearman)" } ?? ""
            rows.append("\(Self.csvField(m.name)),\(m.curves.deletionAUC),\(m.curves.insertionAUC),\(rho)")
        }
        if let random { rows.append("random,\(random.curves.deletionAUC),\(random.curves.insertionAUC),") }
        return rows.joined(separator: "\n") + "\n"
    }

    /// `s`, quoted (RFC 4180) when it holds a comma, quote or line break.
    static func csvField(_ s: String) -> String {
        guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return s }
        return "\"" + s.map { $0 == "\"" ? "\"\"" : String($0) }.joined() + "\""
    }
}
