import Foundation
import Testing
@testable import ViTLensWeb

@Suite struct WebAssetsTests {
    @Test func everyListedAssetIsEmbedded() {
        for name in ["index.html", "style.css", "app.js", "render.js", "api.js", "image.js", "text.js", "explain.js"] {
            let asset = WebAssets.asset(named: name)
            #expect(asset != nil && !(asset?.bytes.isEmpty ?? true), "\(name)")
        }
        #expect(WebAssets.asset(named: "../Package.swift") == nil)
        #expect(WebAssets.asset(named: "index.html")?.contentType == "text/html; charset=utf-8")
        #expect(WebAssets.asset(named: "render.js")?.contentType == "text/javascript; charset=utf-8")
    }

    /// Every `static/NAME` the page refers to is embedded, and every embedded file is used by the page.
    @Test func thePageRefersExactlyToTheEmbeddedFiles() throws {
        let html = try #require(WebAssets.text("index.html"))
        let regex = try NSRegularExpression(pattern: #"(?:src|href)="static/([^"]+)""#)
        let referenced = Set(regex.matches(in: html, range: NSRange(html.startIndex..., in: html)).compactMap {
            Range($0.range(at: 1), in: html).map { String(html[$0]) }
        })
        #expect(referenced == Set(WebAssets.all.keys).subtracting(["index.html"]))
    }

    /// The page loads nothing from the network: no absolute URLs in any asset except the SVG namespace.
    @Test func noNetworkReferences() throws {
        for (name, _) in WebAssets.all {
            let text = try #require(WebAssets.text(name))
            let stripped = text.replacingOccurrences(of: "http://www.w3.org/2000/svg", with: "")
            #expect(!stripped.contains("http://") && !stripped.contains("https://") && !stripped.contains("//cdn"), "\(name)")
        }
    }
}
