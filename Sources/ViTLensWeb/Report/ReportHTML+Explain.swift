import Foundation
import ViTLens

extension ReportPageWriter {
    /// An input's explanation part: the target, method buttons (script only) and one figure per method
    /// (all visible without the script; with it, the chosen one). Image maps lie over the section's
    /// backdrop like the attention maps; text maps colour the tokens.
    func explanation(_ e: ExplanationReport?, note: String?, tokens: [String]?) -> String {
        guard report.explained else { return "" }
        guard let e, let first = e.methods.first else {
            return "<h3>Explanation</h3>\n<p class=\"note no-explanation\">\(XMLText.escape(note ?? "No explanation."))</p>\n"
        }
        var target = "<code>\(XMLText.escape(e.target))</code>"
        if let c = e.classIndex { target += " (class \(c)" + (e.label.map { " “\(XMLText.escape($0))”" } ?? "") + ")" }
        var out = "<h3>Explanation of \(target)</h3>\n"
        out += "<div class=\"explain\" data-method=\"\(first.method.rawValue)\"><div class=\"method-buttons js-only\" role=\"group\" aria-label=\"explanation method\">"
        for m in e.methods {
            let on = m.method == first.method
            out += "<button type=\"button\" data-method=\"\(m.method.rawValue)\" aria-pressed=\"\(on)\"\(on ? " class=\"active\"" : "")>\(m.method.rawValue)</button>"
        }
        out += "</div><div class=\"ex-figures\">"
        for m in e.methods {
            let value = "target value " + Self.number(m.targetValue)
            out += "<figure class=\"ex-method\(m.method == first.method ? " active" : "")\" data-method=\"\(m.method.rawValue)\">"
            if let p = m.picture {
                let label = "\(m.method.rawValue), \(value): \(Self.number(p.low)) – \(Self.number(p.high))"
                out += "<div class=\"ov\"><img class=\"heat ex-map\" src=\"\(Self.dataURI(p.png))\" data-low=\"\(p.low)\" data-high=\"\(p.high)\" title=\"\(label)\" alt=\"\(label)\"></div>"
            } else if let tokens {
                out += tokenStrip(m.shown, tokens: tokens)
            }
            out += "<figcaption><b>\(m.method.rawValue)</b>: \(XMLText.escape(MethodExplanation.describe(m.method))); \(value)"
                + String(format: "; %.2f s.", m.seconds) + "</figcaption></figure>"
        }
        return out + "</div></div>\n"
    }

    /// The tokens coloured by their value (normalised like the pictures), each value in its tooltip.
    func tokenStrip(_ map: Tensor, tokens: [String]) -> String {
        guard map.shape == [tokens.count], let normalized = try? report.style.normalization.apply(map) else { return "" }
        var out = "<p class=\"ex-tokens\">"
        for (i, token) in tokens.enumerated() {
            let c = report.style.colormap.color(normalized.values[i])
            let light = 0.299 * Double(c.red) + 0.587 * Double(c.green) + 0.114 * Double(c.blue) > 140
            let background = String(format: "#%02x%02x%02x", c.red, c.green, c.blue)
            out += "<span class=\"ex-tok\" data-index=\"\(i)\" style=\"background: \(background); color: \(light ? "#000" : "#fff")\" "
                + "title=\"\(i): \(Self.number(map.values[i]))\">\(XMLText.escape(token))</span>"
        }
        return out + "</p>"
    }
}

/// One input's explanations in the page's JSON (`explanation`, snake_case keys).
struct ExplanationData: Encodable {
    var target: String
    var classIndex: Int?
    var label: String?
    var methods: [Method]

    struct Method: Encodable {
        var method: String
        var targetValue: Float
        var map: ArrayRecord
    }

    init?(_ e: ExplanationReport?) {
        guard let e else { return nil }
        (target, classIndex, label) = (e.target, e.classIndex, e.label)
        methods = e.methods.map { Method(method: $0.method.rawValue, targetValue: $0.targetValue, map: ArrayRecord($0.map)) }
    }
}
