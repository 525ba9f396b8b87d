import Foundation
import ViTLens

/// Writes a ``Report`` as ONE self-contained HTML page: pictures as `data:` URIs, data as inline
/// JSON, plots and head views as inline SVG, CSS and a small script inline; no network reference of
/// any kind (a Content-Security-Policy of `default-src 'none'` makes the browser refuse any that
/// slipped in).
///
/// Without JavaScript every picture is visible as a grid; the script adds a layer slider and head
/// buttons that swap the pre-rendered pictures, and the head view's layer, head and token filters.
public enum ReportHTML {
    /// The start of the generator string (`ViTLens 0.1.0`).
    public static let generatorPrefix = "ViTLens "
    /// The marker every report carries in its head; ``ReportFile`` replaces only files that have it.
    public static let generatorMarker = "<meta name=\"generator\" content=\"" + generatorPrefix

    /// The page for `report`.
    public static func render(_ report: Report) -> String {
        var writer = ReportPageWriter(report: report)
        return writer.page()
    }
}

/// Builds the page piece by piece (sections first, so their backdrop rules can go into the head).
struct ReportPageWriter {
    let report: Report
    private var backdrops: [String] = []

    init(report: Report) { self.report = report }

    mutating func page() -> String {
        var body = header() + cards() + failureSummary()
        var counts = (image: 0, text: 0, failure: 0)
        for section in report.sections {
            switch section {
            case .image(let r):
                counts.image += 1
                body += image(r, id: "img-\(counts.image)", number: counts.image)
            case .text(let r):
                counts.text += 1
                body += text(r, id: "text-\(counts.text)", number: counts.text)
            case .failure(let f):
                counts.failure += 1
                body += failure(f, id: "failed-\(counts.failure)")
            }
        }
        body += footer()
        let alpha = String(format: "%.3f", report.style.alpha)
        let css = ReportHTML.css.replacingOccurrences(of: "ALPHA", with: alpha) + backdrops.joined(separator: "\n")
        return """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        \(ReportHTML.generatorMarker)\(XMLText.escape(String(report.generator.dropFirst(ReportHTML.generatorPrefix.count))))">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
        <title>\(XMLText.escape(title))</title>
        <style>
        \(css)
        </style>
        </head>
        <body>
        \(body)
        <script>
        \(ReportHTML.script)
        </script>
        </body>
        </html>

        """
    }

    var title: String {
        let images = report.sections.filter { if case .image = $0 { return true } else { return false } }.count
        let texts = report.sections.filter { if case .text = $0 { return true } else { return false } }.count
        var parts: [String] = []
        if images > 0 { parts.append(Self.plural(images, "image")) }
        if texts > 0 { parts.append(Self.plural(texts, "sentence")) }
        if !report.failures.isEmpty { parts.append("\(report.failures.count) failed") }
        return "ViTLens report: " + (parts.isEmpty ? "no inputs" : parts.joined(separator: ", "))
    }

    static func plural(_ n: Int, _ word: String) -> String { "\(n) \(word)\(n == 1 ? "" : "s")" }

    // MARK: - Page parts

    func header() -> String {
        let date = ISO8601DateFormatter.string(from: report.created, timeZone: .current, formatOptions: [.withInternetDateTime])
        var nav = ""
        var counts = (image: 0, text: 0, failure: 0)
        for section in report.sections {
            switch section {
            case .image(let r):
                counts.image += 1
                nav += "<li><a href=\"#img-\(counts.image)\">\(XMLText.escape(Self.fileName(r.name)))</a></li>"
            case .text(let r):
                counts.text += 1
                nav += "<li><a href=\"#text-\(counts.text)\">\(XMLText.escape(Self.clip(r.text, 32)))</a></li>"
            case .failure(let f):
                counts.failure += 1
                nav += "<li class=\"failed\"><a href=\"#failed-\(counts.failure)\">\(XMLText.escape(Self.fileName(f.input))) (failed)</a></li>"
            }
        }
        let s = report.style
        return """
        <header>
        <h1>\(XMLText.escape(title))</h1>
        <p class="meta">Built \(XMLText.escape(date)) by \(XMLText.escape(report.generator)). Colours: \(s.colormap.rawValue), \
        each picture scaled by \(XMLText.escape("\(s.normalization)")) normalisation (hover a picture for its range), \
        \(s.upsampling.rawValue) upsampling, overlay weight \(String(format: "%.2f", s.alpha)). \
        <span class="colorbar-inline">\(colorBar())</span></p>
        <nav><ol>\(nav)</ol></nav>
        </header>

        """
    }

    /// The colormap as a 256 x 1 picture stretched into a bar.
    func colorBar() -> String {
        let ramp = Tensor(shape: [1, 256], values: (0 ..< 256).map { (Float($0) + 0.5) / 256 })
        guard let image = try? report.style.colormap.image(ramp), let png = try? ImageIO.encodePNG(image) else { return "" }
        return "low <img class=\"colorbar\" alt=\"colour bar\" src=\"\(Self.dataURI(png))\"> high"
    }

    func cards() -> String {
        guard !report.models.isEmpty else { return "" }
        var out = "<section class=\"cards\"><h2>Models</h2><div class=\"card-row\">"
        for card in report.models { out += modelCard(card) }
        return out + "</div></section>\n"
    }

    func modelCard(_ c: ModelCard) -> String {
        var rows: [(String, String)] = [
            ("Model", "<code>\(XMLText.escape(c.model))</code>"),
            ("Family (model_type)", XMLText.escape(c.modelType)),
            ("Layers", "\(c.layers)"), ("Heads", "\(c.heads)"), ("Hidden size", "\(c.hidden)"),
        ]
        if let p = c.patchSize { rows.append(("Patch size", "\(p) px")) }
        if let s = c.imageSize, let p = c.patchSize {
            let prefix = c.prefix ?? []
            let grid = s / max(p, 1)
            let layout = (prefix.isEmpty ? "no prefix tokens" : prefix.joined(separator: " + ")) + " + \(grid)x\(grid) patches = \(prefix.count + grid * grid) tokens"
            rows.append(("Trained input size", "\(s)x\(s) px"))
            rows.append(("Token layout at that size", XMLText.escape(layout)))
        }
        if let t = c.maxTokens { rows.append(("Longest sentence", "\(t) tokens")) }
        if c.kind == "image" {
            rows.append(("Classifier", c.classes > 0 ? "\(c.classes) classes (id2label)" : "none (no id2label classes)"))
        }
        let short = String(c.weightsSHA256.prefix(16))
        rows.append(("Weights", "<code>\(XMLText.escape(c.weightsFile))</code>"))
        rows.append(("SHA-256", "<code class=\"sha\" title=\"\(c.weightsSHA256)\">\(short)…</code>"))
        rows.append(("ViTLens", XMLText.escape(c.vitlensVersion)))
        let body = rows.map { "<tr><th>\($0.0)</th><td>\($0.1)</td></tr>" }.joined()
        return "<table class=\"card\" data-kind=\"\(c.kind)\"><caption>\(c.kind == "image" ? "Image model" : "Text model")</caption>\(body)</table>"
    }

    func failureSummary() -> String {
        let failures = report.failures
        guard !failures.isEmpty else { return "" }
        let items = failures.map { "<li>\(XMLText.escape($0.reason))</li>" }.joined()
        return "<section class=\"failures\"><h2>\(Self.plural(failures.count, "input")) failed</h2><ul>\(items)</ul></section>\n"
    }

    func failure(_ f: ReportFailure, id: String) -> String {
        """
        <section class="input failure" id="\(id)">
        <h2>\(XMLText.escape(f.input))</h2>
        <p class="reason">Failed: \(XMLText.escape(f.reason))</p>
        </section>

        """
    }

    func footer() -> String {
        """
        <footer><p>Made with ViTLens \(XMLText.escape(ViTLensVersion.current)). This page is self-contained: it loads nothing \
        from the network. Each input section carries its numbers as JSON (<code>script.report-data</code>).</p></footer>
        """
    }

    // MARK: - Helpers

    static func dataURI(_ png: Data) -> String { "data:image/png;base64," + png.base64EncodedString() }

    static func fileName(_ path: String) -> String { (path as NSString).lastPathComponent }

    static func clip(_ text: String, _ n: Int) -> String { text.count > n ? text.prefix(n - 1) + "…" : text }

    static func number(_ v: Float) -> String { String(format: "%.4g", Double(v)) }

    /// An SVG document made fit for inline HTML: no XML prologue, no namespace attribute, ids made unique.
    static func inlineSVG(_ svg: String, idSuffix: String) -> String {
        var s = svg
        if s.hasPrefix("<?xml"), let end = s.firstIndex(of: "\n") { s = String(s[s.index(after: end)...]) }
        s = s.replacingOccurrences(of: " xmlns=\"http://www.w3.org/2000/svg\"", with: "")
        return s.replacingOccurrences(of: "plot-area", with: "plot-area-\(idSuffix)")
    }

    /// JSON for a `<script type="application/json">` element (every `<` escaped, so no `</script>` can end it early).
    static func inlineJSON(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        guard let data = try? encoder.encode(value) else { return "null" }
        return String(decoding: data, as: UTF8.self).replacingOccurrences(of: "<", with: "\\u003c")
    }

    mutating func addBackdrop(id: String, png: Data) {
        backdrops.append("#\(id) .ov{background-image:url(\(Self.dataURI(png)))}")
    }
}
