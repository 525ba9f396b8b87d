import Foundation
import ViTLensCore

extension JSONReader {
    /// Parses a safetensors header, shard index or Hub reply, whose keys end up in Swift
    /// dictionaries: canonically equivalent keys (precomposed "é" and "e" + U+0301), which a
    /// dictionary would merge, count as the same key and are refused like any repeated key.
    static func parseDictionaryKeyed(_ data: Data) throws(JSONReadError) -> JSONValue {
        try parse([UInt8](data), options: Options(keyEquality: .canonicalEquivalence))
    }
}

extension JSONValue {
    /// The members of an object value as a dictionary (keys are unique once read by
    /// ``JSONReader/parseDictionaryKeyed(_:)``).
    var dictionary: [String: JSONValue]? {
        guard let members else { return nil }
        return Dictionary(members.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
    }
}
