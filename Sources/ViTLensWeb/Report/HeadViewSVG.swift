import Foundation
import ViTLens

/// bertviz's head view of one layer as an inline SVG: query tokens on the left, key tokens on the
/// right, one line per (head, query, key) whose opacity is the attention weight, one colour per head.
///
/// Lines are grouped per head (`<g class="hv-head" data-head="h">`) and carry `data-query` and
/// `data-key`, so the report's script can toggle heads and isolate a hovered token's lines. Weights
/// below ``minimumWeight`` are left out (they would be invisible), which keeps the page small.
public struct HeadViewSVG: Sendable {
    /// The tokens (rows and columns of every head's matrix).
    public var tokens: [String]
    /// One layer's attention, `[heads, T, T]` (rows = queries).
    public var attention: Tensor
    /// The layer, for the title.
    public var layer: Int
    /// Lines lighter than this are not drawn.
    public var minimumWeight: Float = 0.01

    /// Row height and the x positions of the two token columns and the lines between them.
    static let rowHeight = 18, top = 26, leftText = 150, lineStart = 156, lineEnd = 324, rightText = 330, width = 480

    /// A head view of `attention` (`[heads, T, T]`) over `tokens`.
    public init(tokens: [String], attention: Tensor, layer: Int) {
        self.tokens = tokens
        self.attention = attention
        self.layer = layer
    }

    /// The colour of head `h` when a layer has `heads` heads (matplotlib's tab10/tab20).
    public static func color(head h: Int, heads: Int) -> String { Palette.forSeries(count: heads)[h].hexString }

    /// The SVG element (no XML prologue, no namespace attribute: it is meant for inline HTML).
    public func svg() -> String {
        let t = tokens.count
        let heads = attention.shape.count == 3 && attention.shape[1] == t && attention.shape[2] == t ? attention.shape[0] : 0
        let height = Self.top + t * Self.rowHeight + 8
        func y(_ i: Int) -> Int { Self.top + i * Self.rowHeight + Self.rowHeight / 2 }
        var out = "<svg class=\"headview-svg\" width=\"\(Self.width)\" height=\"\(height)\" viewBox=\"0 0 \(Self.width) \(height)\" data-layer=\"\(layer)\">"
        out += "<text class=\"hv-title\" x=\"\(Self.width / 2)\" y=\"16\" text-anchor=\"middle\">layer \(layer)</text>"
        for h in 0 ..< heads {
            out += "<g class=\"hv-head\" data-head=\"\(h)\" stroke=\"\(Self.color(head: h, heads: heads))\">"
            for q in 0 ..< t {
                for k in 0 ..< t {
                    let w = attention.values[(h * t + q) * t + k]
                    guard w >= minimumWeight else { continue }
                    out += "<line x1=\"\(Self.lineStart)\" y1=\"\(y(q))\" x2=\"\(Self.lineEnd)\" y2=\"\(y(k))\" stroke-opacity=\""
                        + String(format: "%.3f", min(w, 1)) + "\" data-query=\"\(q)\" data-key=\"\(k)\"/>"
                }
            }
            out += "</g>"
        }
        for (i, token) in tokens.enumerated() {
            let text = XMLText.escape(token)
            out += "<text class=\"hv-token hv-q\" data-index=\"\(i)\" x=\"\(Self.leftText)\" y=\"\(y(i) + 4)\" text-anchor=\"end\">\(text)</text>"
            out += "<text class=\"hv-token hv-k\" data-index=\"\(i)\" x=\"\(Self.rightText)\" y=\"\(y(i) + 4)\">\(text)</text>"
        }
        return out + "</svg>"
    }
}
