import Foundation

/// The checkpoint of a `vitlens stats` run: its ``StatsState`` committed into `--out` as the folder's
/// `stats` files (``OutputFolder``: staged and swapped in atomically, so a `kill -9` leaves the
/// previous checkpoint or the new one, never half a file). Running the same command again resumes
/// from it; the run's final commit replaces it with the full set of files (the state among them).
public enum StatsCheckpoint {
    /// The state in `folder`, or nil when the folder or the file does not exist.
    /// - Throws: ``StatsError/badState(file:reason:)`` for a file that is not a valid state.
    public static func load(from folder: String) throws -> StatsState? {
        let url = URL(fileURLWithPath: folder).appendingPathComponent(StatsState.fileName)
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        return try StatsState.read(url)
    }

    /// Commits `state` (and `failures.csv` when inputs failed) as the `stats` files of `folder`.
    /// - Parameters:
    ///   - inputs: the paths the run reads (`folder` may not contain them).
    ///   - arguments: the command line, recorded in the manifest.
    public static func save(_ state: StatsState, to folder: String, inputs: [String], arguments: [String]) throws {
        let out = try OutputFolder(folder, command: "stats", inputs: inputs, arguments: arguments)
        try out.write(try state.encoded(), StatsState.fileName)
        if !state.failures.isEmpty {
            try out.write(ImageBatch.failuresCSV(state.failures.map { ImageBatch.Failure(file: $0.file, reason: $0.reason) }), ImageBatch.failuresFileName)
        }
        try out.commit()
    }
}
