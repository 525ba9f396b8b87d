import ViTLensCore

extension PatchPerturbation {
    /// Deletion and insertion curves for every `(name, map)` in `methods`, and, when
    /// `randomOrders > 0`, the mean curves of that many seeded random orders, as a report.
    ///
    /// Every curve point is one call of `evaluate` (a model forward):
    /// `2 (methods + randomOrders) (steps + 1)` in all, recorded in ``FaithfulnessReport/forwards``.
    /// - Throws: ``FaithfulnessError`` for a bad map or a non-finite target, or what `evaluate` throws.
    public func report(target: String, methods: [(name: String, map: Tensor)], randomOrders: Int = 0, seed: UInt64 = 0,
                       evaluate: (Tensor) throws -> Float) throws -> FaithfulnessReport {
        let orders = try methods.map { try order(map: $0.map) }
        var results: [FaithfulnessReport.Method] = []
        for (m, o) in zip(methods, orders) {
            results.append(.init(name: m.name, curves: .init(deletion: try deletion(order: o, evaluate: evaluate),
                                                              insertion: try insertion(order: o, evaluate: evaluate))))
        }
        var random: FaithfulnessReport.RandomBaseline?
        if randomOrders > 0 {
            let drawn = try self.randomOrders(count: randomOrders, seed: seed)
            let del = try drawn.map { try deletion(order: $0, evaluate: evaluate) }
            let ins = try drawn.map { try insertion(order: $0, evaluate: evaluate) }
            random = .init(orders: randomOrders, seed: seed, curves: .init(deletion: .mean(del), insertion: .mean(ins)))
        }
        return FaithfulnessReport(target: target, baseline: baseline.name, steps: steps, patches: patchCount,
                                  forwards: 2 * (methods.count + Swift.max(randomOrders, 0)) * evaluationsPerCurve,
                                  methods: results, random: random)
    }
}
