import Foundation
import ViTLens

extension ReportPageWriter {
    /// One image's section: facts, prediction, explorer, last-layer heads and masks, rollout, the
    /// layers x heads grid, the distance plot and the numbers as JSON.
    mutating func image(_ r: ImageReport, id: String, number: Int) -> String {
        addBackdrop(id: id, png: r.canvas)
        let layers = r.mapPictures.count
        let heads = r.masks.keptMass.count
        let (h, w) = (r.inputSize[0], r.inputSize[1])
        var out = "<section class=\"input image\" id=\"\(id)\" data-layers=\"\(layers)\" data-heads=\"\(heads)\" style=\"--ar: \(w) / \(h)\">\n"
        out += "<h2>\(number). \(XMLText.escape(r.name))</h2>\n"
        out += "<p class=\"facts\">Model input \(h)x\(w) px; tokens: \(XMLText.escape(Self.layoutText(r.layout))); "
            + "maps show the \(XMLText.escape(r.query.description)) query's attention"
            + (r.layout.poolingHeadLayer.map { " (layer \($0), the attention pooling head, and rollout: the probe's)" } ?? "") + "; "
            + String(format: "one forward pass with all analyses: %.2f s.", r.seconds) + "</p>\n"
        out += prediction(r.prediction)
        out += explanation(r.explanation, note: r.explanationNote, tokens: nil)
        func img(_ l: Int, _ head: Int) -> String { Self.pictureTag(r.mapPictures[l][head], class: "heat", layer: l, head: head, heads: heads) }
        out += "<h3>Explorer</h3>\n"
        out += explorer(layers: layers, heads: heads, headLabel: "head", initial: img(layers - 1, heads), big: true)
        out += "<h3>Last layer: \(XMLText.escape(r.query.description)) attention per head and DINO masks (t = \(report.threshold))</h3>\n<div class=\"strip\">"
        for head in 0 ..< heads {
            let kept = String(format: "%.1f%%", 100 * r.masks.keptMass[head])
            out += "<figure><div class=\"ov\">\(img(layers - 1, head))</div>"
            out += "<div class=\"ov\"><img class=\"mask\" src=\"\(Self.dataURI(r.maskPictures[head]))\" alt=\"mask of head \(head)\" title=\"head \(head): the smallest set of patches holding \(report.threshold) of its mass; kept \(kept)\"></div>"
            out += "<figcaption>head \(head): mask keeps \(kept) of the mass</figcaption></figure>"
        }
        out += "<figure><div class=\"ov\">\(img(layers - 1, heads))</div><figcaption>mean of heads</figcaption></figure></div>\n"
        let rp = r.rolloutPicture
        let rollLabel = "rollout over layers 0...\(layers - 1): \(Self.number(rp.low)) – \(Self.number(rp.high))"
        out += "<div class=\"pair\"><div><h3>Attention rollout</h3>\n<figure class=\"rollout\"><div class=\"ov\"><img class=\"heat rollout\" src=\"\(Self.dataURI(rp.png))\" data-low=\"\(rp.low)\" data-high=\"\(rp.high)\" title=\"\(rollLabel)\" alt=\"\(rollLabel)\"></div>"
        out += "<figcaption>Abnar &amp; Zuidema 2020: mean over heads, identity added and rows renormalised, all layers multiplied; the \(XMLText.escape(r.query.description)) row over the patches (<code>vitlens rollout</code> defaults).</figcaption></figure></div>\n"
        out += "<div><h3>Mean attention distance</h3>\n<figure class=\"plot\">\(Self.inlineSVG(r.distancePlot, idSuffix: id))"
        out += "<figcaption>Per layer and head, the attention-weighted distance between query and key patches in input pixels (ViT paper, Fig. 7), for this image alone.</figcaption></figure></div></div>\n"
        out += "<h3>\(XMLText.escape(r.query.description.uppercased())) attention, layer by layer</h3>\n"
        out += "<p class=\"hint\">Rows are layers, columns heads; the last column is the mean of heads. Click a picture to open it in the explorer.</p>\n"
        out += "<div class=\"grid-wrap\"><table class=\"grid\"><thead><tr><th></th>"
        out += (0 ..< heads).map { "<th>head \($0)</th>" }.joined() + "<th>mean</th></tr></thead><tbody>"
        for l in 0 ..< layers {
            out += "<tr><th>layer \(l)</th>" + (0 ... heads).map { "<td><div class=\"ov thumb\">\(img(l, $0))</div></td>" }.joined() + "</tr>"
        }
        out += "</tbody></table></div>\n"
        out += "<details class=\"data\"><summary>Numbers (JSON)</summary><p>The script element <code>#\(id)-data</code> holds "
            + "<code>cls_maps</code> [layers, heads, rows, columns], <code>rollout</code>, <code>masks</code>, <code>kept_mass</code>, "
            + "<code>mean_attention_distance</code>, the prediction and the explanation maps, as float32 values.</p></details>\n"
        out += "<script type=\"application/json\" class=\"report-data\" id=\"\(id)-data\">\(Self.inlineJSON(ImageData(r, threshold: report.threshold)))</script>\n"
        return out + "</section>\n"
    }

    func prediction(_ scores: [ClassScore]?) -> String {
        guard let scores else {
            return "<h3>Prediction</h3>\n<p class=\"note no-classifier\">The model has no classifier head, so there is no prediction.</p>\n"
        }
        let rows = scores.map {
            "<tr><td>\(XMLText.escape($0.label))</td><td class=\"num\">\($0.index)</td><td class=\"num\">\(String(format: "%.2f%%", 100 * $0.probability))</td>"
                + "<td><span class=\"bar\" style=\"width: \(String(format: "%.1f", 100 * $0.probability))%\"></span></td></tr>"
        }.joined()
        return "<h3>Prediction</h3>\n<table class=\"prediction\"><thead><tr><th>class</th><th>index</th><th>probability</th><th></th></tr></thead><tbody>\(rows)</tbody></table>\n"
    }

    /// A big view with a layer slider and head buttons; its pictures come from the section's grid.
    func explorer(layers: Int, heads: Int, headLabel: String, initial: String, big: Bool) -> String {
        var out = "<div class=\"explorer\" tabindex=\"0\" data-layer=\"\(layers - 1)\" data-head=\"\(heads)\">"
        out += "<div class=\"\(big ? "ov big" : "mx-img")\">\(initial)</div><div class=\"controls js-only\">"
        out += "<label>layer <input type=\"range\" class=\"layer-slider\" min=\"0\" max=\"\(layers - 1)\" value=\"\(layers - 1)\"> <output class=\"layer-value\">\(layers - 1)</output></label>"
        out += "<div class=\"head-buttons\">" + (0 ..< heads).map { "<button type=\"button\" data-head=\"\($0)\">\(headLabel) \($0)</button>" }.joined()
        out += "<button type=\"button\" data-head=\"\(heads)\" class=\"active\">mean</button></div>"
        out += "<p class=\"caption\"></p><p class=\"keys\">Keys: ←/→ head, ↑/↓ layer.</p></div></div>\n"
        return out
    }

    /// An `<img>` of one layer's head (or, for `head == heads`, the mean of heads), with its range in the tooltip.
    static func pictureTag(_ p: ReportPicture, class name: String, layer l: Int, head: Int, heads: Int) -> String {
        let which = head == heads ? "mean of heads" : "head \(head)"
        let label = "layer \(l), \(which): \(number(p.low)) – \(number(p.high))"
        return "<img class=\"\(name)\" src=\"\(dataURI(p.png))\" data-layer=\"\(l)\" data-head=\"\(head)\" data-low=\"\(p.low)\" "
            + "data-high=\"\(p.high)\" title=\"\(label)\" alt=\"\(label)\">"
    }

    static func layoutText(_ layout: TokenLayout) -> String {
        let prefix = layout.prefix.map(\.rawValue)
        let grid = layout.grid.map { "\($0.rows)x\($0.columns) patches of \($0.patchSize) px" } ?? "\(layout.textTokens) text tokens"
        return (prefix.isEmpty ? "" : prefix.joined(separator: " + ") + " + ") + grid + " = \(layout.tokenCount)"
    }
}

/// A tensor as the page's JSON carries it.
struct ArrayRecord: Encodable {
    var shape: [Int]
    var values: [Float]
    init(_ t: Tensor) { (shape, values) = (t.shape, t.values) }
    init(stacking stacks: [Tensor]) {
        shape = [stacks.count] + (stacks.first?.shape ?? [])
        values = stacks.flatMap(\.values)
    }
}

/// One image's numbers in the page (`script.report-data`, snake_case keys).
struct ImageData: Encodable {
    var name: String
    var inputSize: [Int]
    var layout: LayoutRecord
    var query: String
    var clsMaps: ArrayRecord
    var rollout: ArrayRecord
    var masks: MaskRecord
    var keptMass: [Double]
    var threshold: Double
    var meanAttentionDistance: ArrayRecord
    var prediction: [ClassScore]?
    var explanation: ExplanationData?

    struct MaskRecord: Encodable {
        var shape: [Int]
        var values: [UInt8]
    }

    init(_ r: ImageReport, threshold: Double) {
        name = r.name
        inputSize = r.inputSize
        layout = LayoutRecord(r.layout)
        query = r.query.description
        clsMaps = ArrayRecord(stacking: r.maps)
        rollout = ArrayRecord(r.rollout)
        masks = MaskRecord(shape: r.masks.shape, values: r.masks.values)
        keptMass = r.masks.keptMass
        self.threshold = threshold
        meanAttentionDistance = ArrayRecord(r.distances)
        prediction = r.prediction
        explanation = ExplanationData(r.explanation)
    }
}
