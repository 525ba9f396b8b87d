import Foundation
import Testing
import ViTLens
import ViTLensTestSupport
@testable import ViTLensServer

/// The explorer on SigLIP: the input's layout names the pooling head's layer, `query=cls` reads the
/// probe there and is refused at an encoder layer.
@Suite struct SigLIPExplorerTests {
    @Test func clsIsTheProbeAtThePoolingLayer() async throws {
        let explorer = try ServerFixtures.explorer(["siglip-vision"])
        let e = try await explorer.uploadImage(try ServerFixtures.photo("astronaut.png"), model: "0", size: nil, name: "astronaut.png")
        #expect(e.info.layers == 3 && e.info.layout.poolingHeadLayer == 2)
        let json = String(decoding: try JSONEncoder().encode(e.info.layout), as: UTF8.self)
        #expect(json.contains("\"pooling_head_layer\":2"), "\(json)")

        let keys: Set<String> = ["layer", "head", "fusion", "query", "keys"]
        let probe = try fixtureTensor("cases/siglip-vision-astronaut-native/probe_attention.npy")
        for h in 0 ..< 2 {
            let p = try ServerFixtures.parameters(["layer": "2", "head": "\(h)", "query": "cls"], keys)
            let answer = try await explorer.attention(e, p)
            #expect(answer.shape == [6, 6])
            let c = compare(Tensor(shape: [36], values: answer.values), Tensor(shape: [36], values: Array(probe.values[(h * 36) ..< ((h + 1) * 36)])))
            #expect(c.within(.attention), "\(c)")
        }
        let encoder = try ServerFixtures.parameters(["layer": "0", "head": "0", "query": "cls"], keys)
        await #expect(throws: (any Error).self) { _ = try await explorer.attention(e, encoder) }
    }
}
