import Foundation

/// Finds a key that occurs twice in one JSON object, which `JSONDecoder` (and so ``JSONValue``)
/// silently merges.
///
/// Runs over bytes that have already parsed as JSON; on anything else it stops and reports nothing.
/// Keys are compared after unescaping (`"a"` and `"\u0061"` are the same key) with Swift string
/// equality, so canonically equivalent spellings (precomposed "é" and "e" + U+0301), which a Swift
/// dictionary would also merge, count as the same key.
package enum JSONDuplicateKeys {
    /// The first repeated key in document order, with the key of the object that holds it (`nil`
    /// for the top level).
    package static func first(in data: Data) -> (key: String, object: String?)? {
        let bytes = [UInt8](data)
        var scanner = Scanner(bytes: bytes)
        return scanner.value(parentKey: nil, depth: 0)
    }

    private struct Scanner {
        let bytes: [UInt8]
        var i = 0
        /// Deeper documents were already refused by the JSON parser; stop rather than recurse.
        static let maxDepth = 1_000

        init(bytes: [UInt8]) { self.bytes = bytes }

        mutating func skipSpace() {
            while i < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[i]) { i += 1 }
        }

        /// Scans one value; returns the first duplicate found inside it.
        mutating func value(parentKey: String?, depth: Int) -> (key: String, object: String?)? {
            guard depth < Self.maxDepth else { i = bytes.count; return nil }
            skipSpace()
            guard i < bytes.count else { return nil }
            switch bytes[i] {
            case UInt8(ascii: "{"):
                i += 1
                var keys = Set<String>()
                while true {
                    skipSpace()
                    guard i < bytes.count else { return nil }
                    if bytes[i] == UInt8(ascii: "}") { i += 1; return nil }
                    if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                    guard let key = string() else { i = bytes.count; return nil }
                    if !keys.insert(key).inserted { return (key, parentKey) }
                    skipSpace()
                    guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { i = bytes.count; return nil }
                    i += 1
                    if let found = value(parentKey: key, depth: depth + 1) { return found }
                }
            case UInt8(ascii: "["):
                i += 1
                while true {
                    skipSpace()
                    guard i < bytes.count else { return nil }
                    if bytes[i] == UInt8(ascii: "]") { i += 1; return nil }
                    if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                    if let found = value(parentKey: parentKey, depth: depth + 1) { return found }
                }
            case UInt8(ascii: "\""):
                _ = string()
                return nil
            default:
                // A number or literal: up to the next delimiter.
                let start = i
                while i < bytes.count, ![UInt8(ascii: ","), UInt8(ascii: "]"), UInt8(ascii: "}"), 0x20, 0x09, 0x0A, 0x0D].contains(bytes[i]) {
                    i += 1
                }
                if i == start { i = bytes.count }
                return nil
            }
        }

        /// Reads a string at `i` (which must be a quote) and returns it unescaped.
        mutating func string() -> String? {
            guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { return nil }
            i += 1
            var utf16: [UInt16] = []
            var raw: [UInt8] = []
            func flushRaw() {
                utf16.append(contentsOf: String(decoding: raw, as: UTF8.self).utf16)
                raw.removeAll(keepingCapacity: true)
            }
            while i < bytes.count {
                let b = bytes[i]
                i += 1
                if b == UInt8(ascii: "\"") {
                    flushRaw()
                    return String(decoding: utf16, as: UTF16.self)
                }
                guard b == UInt8(ascii: "\\") else { raw.append(b); continue }
                guard i < bytes.count else { return nil }
                let e = bytes[i]
                i += 1
                switch e {
                case UInt8(ascii: "b"): raw.append(0x08)
                case UInt8(ascii: "f"): raw.append(0x0C)
                case UInt8(ascii: "n"): raw.append(0x0A)
                case UInt8(ascii: "r"): raw.append(0x0D)
                case UInt8(ascii: "t"): raw.append(0x09)
                case UInt8(ascii: "u"):
                    guard i + 4 <= bytes.count, let unit = UInt16(String(decoding: bytes[i ..< i + 4], as: UTF8.self), radix: 16) else {
                        return nil
                    }
                    i += 4
                    flushRaw()
                    utf16.append(unit)
                default: raw.append(e)  // \" \\ \/
                }
            }
            return nil
        }
    }
}
