import Foundation
import Testing
@testable import ViTLensCore

@Suite struct MemoryBudgetTests {
    @Test func parsesSizes() {
        #expect(MemoryBudget.parse("512M") == 512 << 20)
        #expect(MemoryBudget.parse("8G") == 8 << 30)
        #expect(MemoryBudget.parse("8gib") == 8 << 30)
        #expect(MemoryBudget.parse("1.5GB") == 3 << 29)
        #expect(MemoryBudget.parse("4096") == 4096)
        #expect(MemoryBudget.parse("2T") == 2 << 40)
        for bad in ["", "G", "-1G", "0", "lots", "1e30", "nanG", "8X"] { #expect(MemoryBudget.parse(bad) == nil, "\(bad)") }
    }

    @Test func defaultIsEightyPercentOfPhysicalAtMost() {
        let physical = Int(clamping: ProcessInfo.processInfo.physicalMemory)
        #expect(MemoryBudget.defaultLimit > 0)
        #expect(MemoryBudget.defaultLimit <= physical * 8 / 10 + 1)
    }

    @Test func estimateSaturatesAndChecks() throws {
        let small = MemoryEstimate(weights: 1 << 20, forward: 2 << 20, observers: 0, tokens: 197)
        #expect(small.total == (3 << 20) + MemoryEstimate.baseline)
        try small.check(limit: 1 << 30)
        #expect(throws: MemoryLimitError(estimate: small, limit: 1 << 20)) { try small.check(limit: 1 << 20) }
        let huge = MemoryEstimate(weights: .max, forward: 1, observers: 1, tokens: 5)
        #expect(huge.total == .max)
        #expect(MemoryEstimate.floats(1 << 40, 1 << 40) == .max)
        #expect(MemoryEstimate.floats(12, 6, 3601, 3601) == 3_734_553_888)
    }

    @Test func recorderEstimateIsWhatItAllocates() throws {
        let layout = TokenLayout(prefix: [.cls], grid: PatchGrid(rows: 14, columns: 14, patchSize: 16))
        let g = AttentionGeometry(layers: 3, heads: 2, tokens: 197, headDim: 16, layout: layout)
        var recorder = AttentionRecorder(options: [.logits, .queries])
        let estimate = recorder.estimatedBytes(for: g)
        try recorder.begin(g)
        let held = 4 * (recorder.attentions.count + recorder.logits.count + recorder.queries.count + recorder.keys.count)
        #expect(estimate == held)
        #expect(ObserverPair(recorder, NoObserver()).estimatedBytes(for: g) == held)
    }

    @Test func limitsProductsReportOverflow() {
        #expect(Limits.product(3, 4, 5) == 60)
        #expect(Limits.product(1 << 32, 1 << 32) == nil)
        #expect(Limits.product(-1, 2) == nil)
        #expect(Limits.sum(.max, 1) == nil)
        #expect(Limits.sum(1, 2, 3) == 6)
    }
}
