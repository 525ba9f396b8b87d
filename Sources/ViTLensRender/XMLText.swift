/// Escaping for text and attribute values in XML, SVG and HTML.
public enum XMLText {
    /// `text` with XML's five special characters escaped (`&amp;`, `&lt;`, `&gt;`, `&quot;`, `&apos;`)
    /// and control characters other than tab and newline dropped (XML 1.0 does not allow them).
    public static func escape(_ text: String) -> String {
        var s = ""
        s.reserveCapacity(text.utf8.count)
        for c in text.unicodeScalars {
            switch c {
            case "&": s += "&amp;"
            case "<": s += "&lt;"
            case ">": s += "&gt;"
            case "\"": s += "&quot;"
            case "'": s += "&apos;"
            default:
                if c.value < 0x20, c != "\t", c != "\n" { continue }
                s.unicodeScalars.append(c)
            }
        }
        return s
    }
}
