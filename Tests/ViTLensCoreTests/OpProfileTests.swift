import Dispatch
import Testing
import ViTLensCore

/// The profile's storage and kinds. (The process-wide recorder is enabled only by
/// ViTLensModelsTests' OpProfileForwardTests, so that no two suites switch it at once.)
@Suite struct OpProfileTests {
    /// Adds from many threads at once sum exactly, per kind, and reset clears everything.
    @Test func countersSumConcurrentAdds() {
        let counters = OpProfile.Counters()
        #expect(counters.totals().isEmpty)
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            for i in 0 ..< 1000 {
                counters.add(.softmax, nanoseconds: i)
                counters.add(.attentionScores, nanoseconds: 2, flops: 2 * 3 * 5 * (worker + 1))
            }
        }
        let t = counters.totals()
        #expect(t[.softmax] == OpProfile.Entry(nanoseconds: 8 * 999 * 1000 / 2, flops: 0, calls: 8000))
        #expect(t[.attentionScores] == OpProfile.Entry(nanoseconds: 16000, flops: 1000 * 30 * 36, calls: 8000))
        #expect(t[.layerNorm] == OpProfile.Entry(nanoseconds: 0, flops: 0, calls: 0))
        #expect(!t.isEmpty)
        counters.reset()
        #expect(counters.totals().isEmpty)
        #expect(counters.totals().entries.allSatisfy { $0 == OpProfile.Entry(nanoseconds: 0, flops: 0, calls: 0) })
    }

    /// Report names are unique; exactly the attention workers' kinds are threaded; exactly the
    /// products count flops.
    @Test func kinds() {
        let names = OpProfile.Kind.allCases.map(\.name)
        #expect(Set(names).count == names.count)
        #expect(OpProfile.Kind.allCases.filter(\.isThreaded) == [.attentionScores, .attentionBias, .attentionFiniteChecks, .attentionCopies,
                                                                  .softmax, .rowStatistics, .attentionValues])
        #expect(OpProfile.Kind.allCases.filter(\.isGEMM) == [.qkvGEMM, .attentionOutputGEMM, .mlpUpGEMM, .mlpDownGEMM, .otherGEMM,
                                                              .attentionScores, .attentionValues])
    }
}
