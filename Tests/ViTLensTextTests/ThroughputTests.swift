import Foundation
import Testing
@testable import ViTLensText

/// Measures tokenization speed on a long paragraph (printed; debug builds are several times
/// slower than release) and checks that tokenizing repeated text repeats the tokens.
@Suite struct ThroughputTests {
    @Test func longParagraph() throws {
        let tokenizer = try TextFixtures.tokenizer(variant: "minilm")
        let paragraph = try #require(TextFixtures.cases(variant: "minilm").first { $0.name == "long_paragraph_truncated" }).text
        let repeats = 20
        let text = String(repeating: paragraph, count: repeats)
        let single = tokenizer.encode(paragraph, addSpecialTokens: false, maxLength: Int.max)
        let scalarCount = paragraph.unicodeScalars.count

        let clock = ContinuousClock()
        var encoding = TextEncoding(ids: [], tokens: [], typeIds: [], attentionMask: [], offsets: [])
        let elapsed = clock.measure { encoding = tokenizer.encode(text, addSpecialTokens: false, maxLength: Int.max) }

        // The paragraph ends with a space, so repeating it repeats its tokens, with shifted offsets.
        #expect(encoding.count == repeats * single.count)
        #expect(encoding.ids == Array([[Int]](repeating: single.ids, count: repeats).joined()))
        let shifted = (0 ..< repeats).flatMap { copy in
            single.offsets.map { $0.map { ($0.lowerBound + copy * scalarCount) ..< ($0.upperBound + copy * scalarCount) } }
        }
        #expect(encoding.offsets == shifted)

        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        let megabytes = Double(text.utf8.count) / 1e6
        print(String(format: "ViTLensText throughput: %d tokens from %.2f MB in %.3f s = %.0f tokens/s, %.2f MB/s",
                     encoding.count, megabytes, seconds, Double(encoding.count) / seconds, megabytes / seconds))
    }
}
