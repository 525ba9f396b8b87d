import Testing
@testable import ViTLensWeb

@Suite struct WebAssetsTests {
    @Test func everyListedAssetIsEmbedded() {
        for name in ["index.html", "style.css", "app.js"] {
            let asset = WebAssets.asset(named: name)
            #expect(asset != nil && !(asset?.bytes.isEmpty ?? true), "\(name)")
        }
        #expect(WebAssets.asset(named: "../Package.swift") == nil)
        #expect(WebAssets.asset(named: "index.html")?.contentType == "text/html; charset=utf-8")
    }
}
