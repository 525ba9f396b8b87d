import Testing
import ViTLensAnalysis

/// Spearman's rank correlation on vectors whose value is known by hand.
@Suite struct SpearmanCorrelationTests {
    /// Ranks of [5, 6, 7, 8, 7] are [1, 2, 3.5, 5, 3.5]; against [1 ... 5] the centred ranks give
    /// cov 8, variances 10 and 9.5, so rho = 8 / sqrt(95) (scipy.stats.spearmanr agrees: 0.8207826816681233).
    @Test func knownValueWithTies() throws {
        #expect(SpearmanCorrelation.ranks([5, 6, 7, 8, 7]) == [1, 2, 3.5, 5, 3.5])
        let rho = try SpearmanCorrelation.value([1, 2, 3, 4, 5], [5, 6, 7, 8, 7])
        #expect(abs(rho - 8 / 95.0.squareRoot()) < 1e-12)
    }

    /// Monotone but non-linear relations are rank-perfect.
    @Test func monotoneIsPlusOrMinusOne() throws {
        #expect(abs(try SpearmanCorrelation.value([1, 2, 3, 4], [1, 10, 100, 1000]) - 1) < 1e-12)
        #expect(abs(try SpearmanCorrelation.value([1, 2, 3, 4], [9, 4, 1, 0]) + 1) < 1e-12)
    }

    @Test func badInputsAreOneLineErrors() {
        #expect(throws: FaithfulnessError.correlationLength(2, 3)) { try SpearmanCorrelation.value([1, 2], [1, 2, 3]) }
        #expect(throws: FaithfulnessError.correlationLength(1, 1)) { try SpearmanCorrelation.value([1], [1]) }
        #expect(throws: FaithfulnessError.nonFiniteCorrelation) { try SpearmanCorrelation.value([1, .nan], [1, 2]) }
        #expect(throws: FaithfulnessError.constantRanks) { try SpearmanCorrelation.value([3, 3, 3], [1, 2, 3]) }
        #expect(!FaithfulnessError.constantRanks.description.contains("\n"))
    }
}
