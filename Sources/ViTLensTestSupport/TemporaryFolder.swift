import Foundation

/// A fresh empty folder `vitlens-TAG-UUID` under the system's temporary directory, for every test target.
///
/// - Parameter tag: a word naming the test (it shows in the folder name, which helps when one is left behind).
/// - Returns: the folder, created.
public func temporaryFolder(_ tag: String) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("vitlens-\(tag)-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}
