import Foundation

/// Paths to the committed test fixtures (`Tests/Fixtures`), found from this file's location.
public enum Fixtures {
    /// The repository root.
    public static let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    /// `Tests/Fixtures`.
    public static let root: URL = repositoryRoot.appendingPathComponent("Tests/Fixtures")
    /// A path below `Tests/Fixtures`.
    public static func url(_ relative: String) -> URL { root.appendingPathComponent(relative) }
}
