import Foundation
import Testing
import ViTLensTestSupport

/// Compares `actual` with the committed snapshot `Tests/Fixtures/render/<name>`.
///
/// With `RECORD_SNAPSHOTS=1` in the environment, or when the file is missing, the snapshot is (re)written
/// and the test fails, so that recording is never silent; re-run without the variable to check.
func assertSnapshot(_ actual: String, named name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let url = Fixtures.url("render/\(name)")
    let record = ProcessInfo.processInfo.environment["RECORD_SNAPSHOTS"] == "1"
    if record || !FileManager.default.fileExists(atPath: url.path) {
        try actual.write(to: url, atomically: true, encoding: .utf8)
        Issue.record("recorded snapshot \(name); re-run without RECORD_SNAPSHOTS to compare", sourceLocation: sourceLocation)
        return
    }
    let expected = try String(contentsOf: url, encoding: .utf8)
    if actual != expected {
        let a = actual.split(separator: "\n", omittingEmptySubsequences: false)
        let e = expected.split(separator: "\n", omittingEmptySubsequences: false)
        let line = (0 ..< Swift.min(a.count, e.count)).first { a[$0] != e[$0] } ?? Swift.min(a.count, e.count)
        let got = line < a.count ? String(a[line]) : "<end>"
        let want = line < e.count ? String(e[line]) : "<end>"
        Issue.record("snapshot \(name) differs at line \(line + 1):\n  got:  \(got)\n  want: \(want)\n(RECORD_SNAPSHOTS=1 re-records)", sourceLocation: sourceLocation)
    }
}
