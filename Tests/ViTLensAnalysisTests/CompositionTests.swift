import Testing
import ViTLensAnalysis
import ViTLensCore

@Suite struct CompositionTests {
    /// One replay into a list of observers gives exactly what each observer gives alone.
    @Test(arguments: AnalysisReference.modelNames)
    func observerListMatchesSeparateRuns(model: String) throws {
        let file = try AnalysisReference.model(model).file()
        let rollout = try Rollout(.init(fusion: .max, discardRatio: 0.3))
        var list = ObserverList([rollout, MeanAttentionDistance(), HeadMaps(layer: 0), AttentionEntropy(), AttentionFlow()])
        try file.replay(into: &list)
        let together = try #require((list.observers[0] as? Rollout)?.result)
        let mad = try #require((list.observers[1] as? MeanAttentionDistance)?.result)
        let heads = try #require((list.observers[2] as? HeadMaps)?.result)
        let entropy = try #require((list.observers[3] as? AttentionEntropy)?.result)
        let flow = try #require((list.observers[4] as? AttentionFlow)?.result)
        #expect(together == (try replayed(rollout, file).result))
        #expect(mad == (try replayed(MeanAttentionDistance(), file).result))
        #expect(heads == (try replayed(HeadMaps(layer: 0), file).result))
        #expect(entropy == (try replayed(AttentionEntropy(), file).result))
        #expect(flow == (try replayed(AttentionFlow(), file).result))

        var pair = ObserverPair(rollout, ObserverPair(MeanAttentionDistance(renormalize: true), HeadMaps()))
        try file.replay(into: &pair)
        #expect(pair.first.result == together)
        #expect(pair.second.first.result == (try replayed(MeanAttentionDistance(renormalize: true), file).result))
        #expect(pair.second.second.result == (try replayed(HeadMaps(), file).result))
    }

    /// A rollout object can be reused: each forward pass replaces the result.
    @Test func observersRestartOnBegin() throws {
        let a = try AnalysisReference.model("dinov2_registers")
        var rollout = try Rollout()
        try a.file(second: true).replay(into: &rollout)
        try a.file().replay(into: &rollout)
        #expect(rollout.result == (try replayed(Rollout(), a.file()).result))
    }
}
