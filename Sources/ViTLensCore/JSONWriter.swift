/// Writes a ``JSONValue`` as JSON text: integers as integers, floats as the shortest text that
/// reads back to the same `Double` (`1e-06`, `0.02`, `1.0`), strings escaped per RFC 8259.
package struct JSONWriter: Sendable {
    /// Two-space indented lines with `": "` between key and value; otherwise one compact line.
    package var pretty: Bool
    /// Object members in `String` order rather than as built.
    package var sortedKeys: Bool

    /// A writer with the given layout.
    package init(pretty: Bool, sortedKeys: Bool) {
        self.pretty = pretty
        self.sortedKeys = sortedKeys
    }

    /// The JSON text of `value` (pretty text ends in a newline).
    package func text(_ value: JSONValue) -> String {
        var out = ""
        write(value, into: &out, indent: 0)
        return pretty ? out + "\n" : out
    }

    private func write(_ value: JSONValue, into out: inout String, indent: Int) {
        switch value {
        case .null: out += "null"
        case .integer(let v): out += String(v)
        // Swift's description is the shortest text that reads back; JSON has no NaN or infinity.
        case .float(let v): out += v.isFinite ? "\(v)" : "null"
        case .bool(let v): out += v ? "true" : "false"
        case .string(let s): Self.quote(s, into: &out)
        case .array(let items):
            writeList(items.count, open: "[", close: "]", into: &out, indent: indent) { i, out in
                write(items[i], into: &out, indent: indent + 2)
            }
        case .object(let members):
            let ordered = sortedKeys ? members.sorted { $0.key < $1.key } : members
            writeList(ordered.count, open: "{", close: "}", into: &out, indent: indent) { i, out in
                Self.quote(ordered[i].key, into: &out)
                out += pretty ? ": " : ":"
                write(ordered[i].value, into: &out, indent: indent + 2)
            }
        }
    }

    private func writeList(_ count: Int, open: String, close: String, into out: inout String, indent: Int,
                           element: (Int, inout String) -> Void) {
        guard count > 0 else { out += open + close; return }
        out += open
        for i in 0 ..< count {
            if pretty { out += "\n" + String(repeating: " ", count: indent + 2) }
            element(i, &out)
            if i + 1 < count { out += "," }
        }
        if pretty { out += "\n" + String(repeating: " ", count: indent) }
        out += close
    }

    /// Appends `s` as a JSON string literal.
    private static func quote(_ s: String, into out: inout String) {
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}
