/// One JSON value, read by ``JSONReader`` or built in code and written by ``JSONWriter``.
///
/// Objects keep their members in order and their keys exactly as written (compared by Unicode
/// scalars, so precomposed "é" and "e" + U+0301 stay two keys, as WordPiece vocabularies need);
/// integers and floats stay apart (`1` vs `1.0`), as Hugging Face's strictly typed configs need.
package indirect enum JSONValue: Sendable {
    case null
    case bool(Bool)
    /// A number written without a fraction or exponent that fits `Int`.
    case integer(Int)
    /// Any other number (with a fraction or exponent, or an integer too large for `Int`).
    case float(Double)
    case string(String)
    case array([JSONValue])
    /// Members in order; ``JSONReader`` refuses a key that appears twice.
    case object([(key: String, value: JSONValue)])

    /// The member named exactly `key` (same Unicode scalars) of an object, or `nil` (also for non-objects).
    package subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        let wanted = Array(key.unicodeScalars)
        return members.last(where: { $0.key.unicodeScalars.elementsEqual(wanted) })?.value
    }

    /// A short name of the value's kind for error messages ("a number", "an object").
    package var kind: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .integer, .float: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }

    /// Whether the value is `null`.
    package var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// The text of a string value.
    package var string: String? { if case .string(let s) = self { return s } else { return nil } }

    /// The elements of an array value.
    package var array: [JSONValue]? { if case .array(let a) = self { return a } else { return nil } }

    /// The members of an object value, in order.
    package var members: [(key: String, value: JSONValue)]? { if case .object(let o) = self { return o } else { return nil } }

    /// Any number as a `Double`.
    package var number: Double? {
        switch self {
        case .integer(let i): return Double(i)
        case .float(let d): return d
        default: return nil
        }
    }

    /// A number with an exact whole value that fits `Int` (`4`, and also `4.0` or `4e0`, as
    /// Foundation's `JSONDecoder` reads them into `Int`), or `nil`.
    package var integral: Int? {
        switch self {
        case .integer(let i): return i
        case .float(let d): return d.rounded() == d && d >= -0x1p63 && d < 0x1p63 ? Int(d) : nil
        default: return nil
        }
    }

    /// A list of non-negative ``integral`` numbers, or `nil`.
    package var naturals: [Int]? {
        guard let items = array else { return nil }
        var out: [Int] = []
        out.reserveCapacity(items.count)
        for item in items {
            guard let i = item.integral, i >= 0 else { return nil }
            out.append(i)
        }
        return out
    }
}

extension JSONValue {
    /// An object from members in the given order.
    package static func object(_ pairs: KeyValuePairs<String, JSONValue>) -> JSONValue {
        .object(pairs.map { (key: $0.key, value: $0.value) })
    }

    /// An array of integers.
    package static func integers(_ values: [Int]) -> JSONValue { .array(values.map { .integer($0) }) }

    /// An array of floats.
    package static func floats(_ values: [Double]) -> JSONValue { .array(values.map { .float($0) }) }

    /// An object of strings, keys sorted.
    package static func strings(_ dictionary: [String: String]) -> JSONValue {
        .object(dictionary.keys.sorted().map { (key: $0, value: .string(dictionary[$0] ?? "")) })
    }
}
