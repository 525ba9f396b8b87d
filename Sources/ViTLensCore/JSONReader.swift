/// A strict RFC 8259 JSON reader over UTF-8 bytes, producing an ordered, exact ``JSONValue``.
///
/// It refuses a key that appears twice in one object (Python's `json` silently keeps the last),
/// documents above ``Options/maxBytes`` and nesting deeper than ``Options/maxDepth``, so hostile
/// input can neither change meaning nor exhaust memory or the stack.
package struct JSONReader {
    /// How keys are compared when looking for a key that appears twice.
    package enum KeyEquality: Sendable {
        /// By Unicode scalars: precomposed "é" and "e" + U+0301 are two keys (tokenizer vocabularies).
        case exactScalars
        /// By Swift `String` equality: canonically equivalent keys count as one, for readers that
        /// put the keys into Swift dictionaries (which would merge them).
        case canonicalEquivalence
    }

    /// Bounds and key rules.
    package struct Options: Sendable {
        /// The largest document in bytes (default 128 MiB, above the 100 MB safetensors header limit).
        package var maxBytes = 128 << 20
        /// The deepest nesting of arrays and objects.
        package var maxDepth = 512
        /// How duplicate keys are found.
        package var keyEquality = KeyEquality.exactScalars

        /// The default bounds, exact keys.
        package init() {}
        /// The default bounds with `keyEquality`.
        package init(keyEquality: KeyEquality) { self.keyEquality = keyEquality }
    }

    private let bytes: [UInt8]
    private let options: Options
    private var position = 0

    /// Parses a whole document (nothing but whitespace may follow the value).
    /// - Throws: ``JSONReadError`` with the problem and its byte offset.
    package static func parse(_ bytes: [UInt8], options: Options = Options()) throws(JSONReadError) -> JSONValue {
        guard bytes.count <= options.maxBytes else {
            throw JSONReadError(message: "the document is \(bytes.count) bytes, above the limit of \(options.maxBytes)", offset: 0)
        }
        var reader = JSONReader(bytes: bytes, options: options)
        reader.skipWhitespace()
        let value = try reader.parseValue(depth: 0, parentKey: nil)
        reader.skipWhitespace()
        guard reader.position == bytes.count else { throw reader.error("unexpected data after the JSON value") }
        return value
    }

    private init(bytes: [UInt8], options: Options) {
        self.bytes = bytes
        self.options = options
    }

    private func error(_ message: String) -> JSONReadError { JSONReadError(message: message, offset: position) }

    private var current: UInt8? { position < bytes.count ? bytes[position] : nil }

    private mutating func skipWhitespace() {
        while let byte = current, byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { position += 1 }
    }

    private mutating func parseValue(depth: Int, parentKey: String?) throws(JSONReadError) -> JSONValue {
        guard depth < options.maxDepth else { throw error("nested too deeply") }
        guard let byte = current else { throw error("unexpected end of data") }
        switch byte {
        case UInt8(ascii: "{"): return try parseObject(depth: depth, parentKey: parentKey)
        case UInt8(ascii: "["): return try parseArray(depth: depth, parentKey: parentKey)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0") ... UInt8(ascii: "9"): return try parseNumber()
        default: throw error("unexpected character '\(Self.describe(byte))'")
        }
    }

    private static func describe(_ byte: UInt8) -> String {
        (0x21 ... 0x7E).contains(byte) ? String(UnicodeScalar(byte)) : "\\x" + String(byte, radix: 16)
    }

    private mutating func expectLiteral(_ literal: String) throws(JSONReadError) {
        let count = literal.utf8.count
        guard position + count <= bytes.count, bytes[position ..< position + count].elementsEqual(literal.utf8)
        else { throw error("invalid literal") }
        position += count
    }

    private mutating func parseObject(depth: Int, parentKey: String?) throws(JSONReadError) -> JSONValue {
        position += 1
        var members: [(key: String, value: JSONValue)] = []
        var seen = KeySet(equality: options.keyEquality)
        skipWhitespace()
        if current == UInt8(ascii: "}") {
            position += 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            guard let byte = current else { throw error("unexpected end of data in an object") }
            guard byte == UInt8(ascii: "\"") else { throw error("expected a string key") }
            let keyStart = position
            let key = try parseString()
            guard seen.insert(key) else {
                throw JSONReadError(message: Self.duplicateMessage(key, parentKey), offset: keyStart,
                                    duplicateKey: JSONReadError.DuplicateKey(key: key, object: parentKey))
            }
            skipWhitespace()
            guard current == UInt8(ascii: ":") else { throw error("expected ':'") }
            position += 1
            skipWhitespace()
            members.append((key, try parseValue(depth: depth + 1, parentKey: key)))
            skipWhitespace()
            guard let next = current else { throw error("unexpected end of data in an object") }
            if next == UInt8(ascii: ",") {
                position += 1
            } else if next == UInt8(ascii: "}") {
                position += 1
                return .object(members)
            } else {
                throw error("expected ',' or '}'")
            }
        }
    }

    private static func duplicateMessage(_ key: String, _ parentKey: String?) -> String {
        "key '\(key)' appears twice" + (parentKey.map { " in the object of '\($0)'" } ?? "")
    }

    private mutating func parseArray(depth: Int, parentKey: String?) throws(JSONReadError) -> JSONValue {
        position += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if current == UInt8(ascii: "]") {
            position += 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            elements.append(try parseValue(depth: depth + 1, parentKey: parentKey))
            skipWhitespace()
            guard let next = current else { throw error("unexpected end of data in an array") }
            if next == UInt8(ascii: ",") {
                position += 1
            } else if next == UInt8(ascii: "]") {
                position += 1
                return .array(elements)
            } else {
                throw error("expected ',' or ']'")
            }
        }
    }

    private mutating func digits() -> Int {
        let first = position
        while let byte = current, (UInt8(ascii: "0") ... UInt8(ascii: "9")).contains(byte) { position += 1 }
        return position - first
    }

    private mutating func parseNumber() throws(JSONReadError) -> JSONValue {
        let start = position
        if current == UInt8(ascii: "-") { position += 1 }
        let integerStart = position
        guard digits() > 0 else { throw error("invalid number") }
        if bytes[integerStart] == UInt8(ascii: "0"), position - integerStart > 1 { throw error("invalid number (leading zero)") }
        var isInteger = true
        if current == UInt8(ascii: ".") {
            position += 1
            isInteger = false
            guard digits() > 0 else { throw error("invalid number") }
        }
        if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            position += 1
            isInteger = false
            if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { position += 1 }
            guard digits() > 0 else { throw error("invalid number") }
        }
        let text = String(decoding: bytes[start ..< position], as: UTF8.self)
        if isInteger, let value = Int(text) { return .integer(value) }
        guard let value = Double(text) else { throw error("invalid number") }
        return .float(value)
    }

    private mutating func parseString() throws(JSONReadError) -> String {
        position += 1
        let start = position
        // Fast path: no escapes.
        while let byte = current {
            if byte == UInt8(ascii: "\"") {
                guard let text = String(validating: bytes[start ..< position], as: UTF8.self) else {
                    throw JSONReadError(message: "invalid UTF-8 in a string", offset: start)
                }
                position += 1
                return text
            }
            if byte == UInt8(ascii: "\\") { break }
            if byte < 0x20 { throw error("control character in a string") }
            position += 1
        }
        var buffer = Array(bytes[start ..< position])
        while let byte = current {
            if byte == UInt8(ascii: "\"") {
                guard let text = String(validating: buffer, as: UTF8.self) else {
                    throw JSONReadError(message: "invalid UTF-8 in a string", offset: start)
                }
                position += 1
                return text
            }
            if byte < 0x20 { throw error("control character in a string") }
            position += 1
            if byte != UInt8(ascii: "\\") {
                buffer.append(byte)
            } else {
                try appendEscape(to: &buffer)
            }
        }
        throw error("unterminated string")
    }

    /// Decodes the escape after a backslash into `buffer` as UTF-8.
    private mutating func appendEscape(to buffer: inout [UInt8]) throws(JSONReadError) {
        guard let escape = current else { throw error("unterminated string") }
        position += 1
        switch escape {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): buffer.append(escape)
        case UInt8(ascii: "b"): buffer.append(0x08)
        case UInt8(ascii: "f"): buffer.append(0x0C)
        case UInt8(ascii: "n"): buffer.append(0x0A)
        case UInt8(ascii: "r"): buffer.append(0x0D)
        case UInt8(ascii: "t"): buffer.append(0x09)
        case UInt8(ascii: "u"):
            var code = try parseHex4()
            if (0xD800 ... 0xDBFF).contains(code) {
                guard position + 1 < bytes.count, bytes[position] == UInt8(ascii: "\\"), bytes[position + 1] == UInt8(ascii: "u")
                else { throw error("lone surrogate in a \\u escape") }
                position += 2
                let low = try parseHex4()
                guard (0xDC00 ... 0xDFFF).contains(low) else { throw error("lone surrogate in a \\u escape") }
                code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
            } else if (0xDC00 ... 0xDFFF).contains(code) {
                throw error("lone surrogate in a \\u escape")
            }
            guard let scalar = Unicode.Scalar(code) else { throw error("invalid \\u escape") }
            buffer.append(contentsOf: String(Character(scalar)).utf8)
        default:
            throw error("invalid escape")
        }
    }

    private mutating func parseHex4() throws(JSONReadError) -> UInt32 {
        guard position + 4 <= bytes.count else { throw error("invalid \\u escape") }
        var value: UInt32 = 0
        for byte in bytes[position ..< position + 4] {
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0") ... UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a") ... UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A") ... UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw error("invalid \\u escape")
            }
            value = value << 4 | UInt32(digit)
        }
        position += 4
        return value
    }

    /// The keys of one object so far, compared as ``KeyEquality`` says.
    private struct KeySet {
        let equality: KeyEquality
        var exact = Set<[UInt32]>()
        var canonical = Set<String>()

        init(equality: KeyEquality) { self.equality = equality }

        /// Adds `key`; false when it was already there.
        mutating func insert(_ key: String) -> Bool {
            switch equality {
            case .exactScalars: return exact.insert(key.unicodeScalars.map(\.value)).inserted
            case .canonicalEquivalence: return canonical.insert(key).inserted
            }
        }
    }
}

/// Why a document is not acceptable JSON: the problem and the byte offset where it was found.
package struct JSONReadError: Error, CustomStringConvertible {
    /// A key that appears twice, and the key of the object holding it (`nil` at the top level).
    package struct DuplicateKey: Sendable, Equatable {
        package var key: String
        package var object: String?
    }

    /// What is wrong ("expected ':'", "key 'a' appears twice").
    package var message: String
    /// The byte offset of the problem.
    package var offset: Int
    /// Set when the problem is a repeated key.
    package var duplicateKey: DuplicateKey?

    package init(message: String, offset: Int, duplicateKey: DuplicateKey? = nil) {
        self.message = message
        self.offset = offset
        self.duplicateKey = duplicateKey
    }

    /// "expected ':' at byte 5".
    package var description: String { "\(message) at byte \(offset)" }
}
