/// The header of a `.npy` file: a Python dict literal such as
/// `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`, parsed strictly.
///
/// Accepted: single- or double-quoted keys and strings (no escapes, as NumPy writes none), `True`
/// and `False`, and tuples of non-negative decimal integers (`()`, `(3,)`, `(2, 3)`), with spaces,
/// tabs and newlines between items and an optional trailing comma. The dict must hold exactly the
/// keys `descr`, `fortran_order` and `shape`, as NumPy's reader requires; a key given twice is
/// refused (``NPYError/duplicateKey(file:key:)``) rather than resolved as Python's last-one-wins.
struct NPYHeaderDict {
    var descr: String
    var fortranOrder: Bool
    var shape: [Int]

    private enum Value {
        case string(String)
        case bool(Bool)
        case tuple([Int])
    }

    /// Parses `text`; every defect is a ``NPYError`` naming `file`.
    init(_ text: String, file: String) throws {
        var scalars = Substring(text).unicodeScalars[...]
        func fail(_ reason: String) -> NPYError { .badHeader(file: file, reason: reason) }
        func skipSpace() { while let c = scalars.first, c == " " || c == "\t" || c == "\n" || c == "\r" { scalars.removeFirst() } }
        func take(_ c: Unicode.Scalar) -> Bool {
            skipSpace()
            guard scalars.first == c else { return false }
            scalars.removeFirst()
            return true
        }
        func quoted() throws -> String? {
            skipSpace()
            guard let quote = scalars.first, quote == "'" || quote == "\"" else { return nil }
            scalars.removeFirst()
            guard let end = scalars.firstIndex(of: quote) else { throw fail("unterminated string") }
            let body = String(scalars[..<end])
            guard !body.unicodeScalars.contains("\\") else { throw fail("escape sequences in strings are not supported") }
            scalars = scalars[scalars.index(after: end)...]
            return body
        }
        func value(for key: String) throws -> Value {
            if let s = try quoted() { return .string(s) }
            skipSpace()
            for (word, flag) in [("True", true), ("False", false)] where scalars.starts(with: word.unicodeScalars) {
                scalars = scalars.dropFirst(word.unicodeScalars.count)
                return .bool(flag)
            }
            guard take("(") else { throw fail("value of '\(key)' is not a string, True, False or a tuple") }
            var items: [Int] = []
            while !take(")") {
                skipSpace()
                let digits = scalars.prefix { $0.properties.numericType == .decimal && $0.isASCII }
                guard !digits.isEmpty else { throw fail("bad shape entry in '\(key)': expected a non-negative integer") }
                guard let n = Int(String(digits)) else { throw fail("bad shape entry '\(String(digits))': too large") }
                scalars = scalars.dropFirst(digits.count)
                items.append(n)
                if take(")") { break }
                guard take(",") else { throw fail("bad shape in '\(key)': expected ',' or ')'") }
            }
            return .tuple(items)
        }

        guard take("{") else { throw fail("not a Python dict") }
        var entries: [String: Value] = [:]
        while !take("}") {
            guard let key = try quoted() else { throw fail("expected a quoted key") }
            guard take(":") else { throw fail("expected ':' after '\(key)'") }
            let v = try value(for: key)
            guard entries.updateValue(v, forKey: key) == nil else { throw NPYError.duplicateKey(file: file, key: key) }
            if take("}") { break }
            guard take(",") else { throw fail("expected ',' or '}' after '\(key)'") }
        }
        skipSpace()
        guard scalars.isEmpty else { throw fail("unexpected text after the dict") }

        for key in ["descr", "fortran_order", "shape"] where entries[key] == nil {
            throw fail("no '\(key)' entry")
        }
        if let extra = entries.keys.sorted().first(where: { !["descr", "fortran_order", "shape"].contains($0) }) {
            throw fail("unexpected key '\(extra)' (NumPy headers hold exactly descr, fortran_order and shape)")
        }
        guard case .string(let descr)? = entries["descr"] else { throw fail("descr is not a string") }
        guard case .bool(let fortran)? = entries["fortran_order"] else { throw fail("fortran_order is not True or False") }
        guard case .tuple(let shape)? = entries["shape"] else { throw fail("shape is not a tuple") }
        self.descr = descr
        self.fortranOrder = fortran
        self.shape = shape
    }
}
