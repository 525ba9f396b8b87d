import Foundation
import FuzzSupport
import ViTLensText

/// libFuzzer target: a tokenizer folder and a sentence. The input is split at `\n--8<--\n` into
/// the sentence, `tokenizer.json`, `vocab.txt`, `tokenizer_config.json` and
/// `special_tokens_map.json` (an empty part means the file is absent). The folder is loaded with
/// `WordPieceTokenizer(directory:)`, then the sentence is encoded alone, truncated and as a pair,
/// and decoded back.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ input: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let parts = FuzzInput.parts(FuzzInput.data(input, size), count: 5)
    for (index, name) in ["tokenizer.json", "vocab.txt", "tokenizer_config.json", "special_tokens_map.json"].enumerated() {
        let part = parts[index + 1]
        FuzzScratch.write(name, part.isEmpty ? nil : part)
    }
    guard let tokenizer = try? WordPieceTokenizer(directory: FuzzScratch.folder) else { return 0 }
    let sentence = String(decoding: parts[0], as: UTF8.self)
    let single = tokenizer.encode(sentence)
    _ = tokenizer.encode(sentence, maxLength: 1 + size % 7)
    let words = sentence.split(separator: " ", maxSplits: 1)
    _ = tokenizer.encode(String(words.first ?? ""), pair: String(words.last ?? ""), maxLength: 5 + size % 11)
    _ = tokenizer.decode(single.ids)
    _ = tokenizer.decode(single.ids, skipSpecialTokens: false)
    for index in 0 ..< single.count { _ = single.range(ofToken: index, in: sentence) }
    return 0
}

@main
enum Main {
    static func main() { FuzzDriver.run(fuzz) }
}
