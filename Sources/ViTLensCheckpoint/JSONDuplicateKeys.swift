import Foundation
import ViTLensCore

/// Finds a key that occurs twice in one JSON object, which `JSONDecoder` silently merges: a thin
/// front for ``JSONReader`` kept for config decoding in ViTLensModels (which may call
/// `JSONReader.parseDictionaryKeyed` directly instead).
///
/// Keys are compared after unescaping (`"a"` and `"\u0061"` are the same key) with Swift string
/// equality, so canonically equivalent spellings, which a Swift dictionary would also merge, count
/// as the same key. Bytes that are not JSON report nothing.
package enum JSONDuplicateKeys {
    /// The first repeated key in document order, with the key of the object that holds it (`nil`
    /// for the top level).
    package static func first(in data: Data) -> (key: String, object: String?)? {
        do {
            _ = try JSONReader.parseDictionaryKeyed(data)
            return nil
        } catch {
            return error.duplicateKey.map { ($0.key, $0.object) }
        }
    }
}
