import Foundation
import ViTLens

extension ReportPageWriter {
    /// One sentence's section: tokens, the head view per layer, the matrices and the numbers as JSON.
    func text(_ r: TextReport, id: String, number: Int) -> String {
        let layers = r.matrices.count
        let heads = max((r.matrices.first?.count ?? 1) - 1, 0)
        let t = r.tokens.count
        var out = "<section class=\"input text\" id=\"\(id)\" data-layers=\"\(layers)\" data-heads=\"\(heads)\" style=\"--t: \(t); --cell: \(max(4, min(18, 720 / max(t, 1))))px\">\n"
        out += "<h2>\(number). Sentence</h2>\n<blockquote>\(XMLText.escape(r.text))</blockquote>\n"
        var facts = "\(t) tokens"
        if r.untruncatedCount > t { facts += " (truncated from \(r.untruncatedCount))" }
        out += "<p class=\"facts\">\(facts); " + String(format: "forward pass %.2f s.", r.seconds) + "</p>\n"
        out += "<h3>Tokens</h3>\n<ol class=\"tokens\" start=\"0\">" + r.tokens.map { "<li>\(XMLText.escape($0))</li>" }.joined() + "</ol>\n"
        out += explanation(r.explanation, note: r.explanationNote, tokens: r.tokens)
        out += "<h3>Head view</h3>\n"
        if let views = r.headViews {
            out += "<div class=\"headview\" data-layer=\"\(layers - 1)\"><div class=\"controls js-only\">"
            out += "<label>layer <input type=\"range\" class=\"hv-layer-slider\" min=\"0\" max=\"\(layers - 1)\" value=\"\(layers - 1)\"> <output class=\"layer-value\">\(layers - 1)</output></label>"
            out += "<div class=\"hv-toggles\">" + (0 ..< heads).map {
                "<label style=\"--c: \(HeadViewSVG.color(head: $0, heads: heads))\"><input type=\"checkbox\" data-head=\"\($0)\" checked> head \($0)</label>"
            }.joined() + "</div>"
            out += "<p class=\"hint\">Lines join a query token (left) to the keys it attends to (right); opacity = weight, colour = head. "
                + "Hover a token to see only its lines.</p></div><div class=\"hv-layers\">"
            for (l, svg) in views.enumerated() {
                out += "<div class=\"hv-layer\(l == layers - 1 ? " active" : "")\" data-layer=\"\(l)\">\(svg)</div>"
            }
            out += "</div></div>\n"
        } else {
            out += "<p class=\"note\">No head view: the sentence has \(t) tokens, above the report's limit for one; the matrices below show every weight.</p>\n"
        }
        out += "<h3>Attention matrices</h3>\n<p class=\"hint\">Rows are query tokens, columns key tokens; the last column of the grid is the mean of heads.</p>\n"
        func img(_ l: Int, _ head: Int) -> String { Self.pictureTag(r.matrices[l][head], class: "matrix", layer: l, head: head, heads: heads) }
        let labels = r.tokens.map { "<span>\(XMLText.escape($0))</span>" }.joined()
        out += "<div class=\"matrix-view\"><div class=\"mx-cols\">\(labels)</div><div class=\"mx-rows\">\(labels)</div>"
        out += explorer(layers: layers, heads: heads, headLabel: "head", initial: img(layers - 1, heads), big: false) + "</div>\n"
        out += "<div class=\"grid-wrap\"><table class=\"grid mgrid\"><thead><tr><th></th>"
        out += (0 ..< heads).map { "<th>head \($0)</th>" }.joined() + "<th>mean</th></tr></thead><tbody>"
        for l in 0 ..< layers {
            out += "<tr><th>layer \(l)</th>" + (0 ... heads).map { "<td>\(img(l, $0))</td>" }.joined() + "</tr>"
        }
        out += "</tbody></table></div>\n"
        let data = TextData(text: r.text, tokens: r.tokens, attentions: r.headViews == nil ? nil : ArrayRecord(r.attentions),
                            explanation: ExplanationData(r.explanation))
        out += "<script type=\"application/json\" class=\"report-data\" id=\"\(id)-data\">\(Self.inlineJSON(data))</script>\n"
        return out + "</section>\n"
    }
}

/// One sentence's numbers in the page (the attentions only when the head view is there).
struct TextData: Encodable {
    var text: String
    var tokens: [String]
    var attentions: ArrayRecord?
    var explanation: ExplanationData?
}
