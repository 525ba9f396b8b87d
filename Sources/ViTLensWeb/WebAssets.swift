import Foundation

/// The explorer page's files, compiled into the binary (SwiftPM `embedInCode` resources): the page
/// works with the network unplugged and from a single executable.
public enum WebAssets {
    /// One embedded file.
    public struct Asset: Sendable {
        /// The file name, as served under `/static/`.
        public let name: String
        /// `Content-Type` for the file.
        public let contentType: String
        /// The bytes.
        public let bytes: [UInt8]
    }

    /// Every asset, by name.
    public static let all: [String: Asset] = {
        let files: [(String, [UInt8])] = [
            ("index.html", PackageResources.index_html),
            ("style.css", PackageResources.style_css),
            ("app.js", PackageResources.app_js),
            ("render.js", PackageResources.render_js),
            ("api.js", PackageResources.api_js),
            ("image.js", PackageResources.image_js),
            ("text.js", PackageResources.text_js),
            ("explain.js", PackageResources.explain_js),
        ]
        return Dictionary(uniqueKeysWithValues: files.map { ($0.0, Asset(name: $0.0, contentType: contentType(of: $0.0), bytes: $0.1)) })
    }()

    /// The asset called `name` (no folders: any `/`, `..` or unknown name gives nil).
    public static func asset(named name: String) -> Asset? { all[name] }

    /// The asset's text (UTF-8).
    public static func text(_ name: String) -> String? { all[name].map { String(decoding: $0.bytes, as: UTF8.self) } }

    static func contentType(of name: String) -> String {
        switch (name as NSString).pathExtension {
        case "html": return "text/html; charset=utf-8"
        case "css": return "text/css; charset=utf-8"
        case "js": return "text/javascript; charset=utf-8"
        case "svg": return "image/svg+xml"
        case "png": return "image/png"
        case "json": return "application/json"
        default: return "application/octet-stream"
        }
    }
}
