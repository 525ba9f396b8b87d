import Foundation

/// Many images through one job, the way `vitlens heads|rollout|dump|distance` run them: one
/// subfolder per image, a progress bar, and failures of single images collected instead of stopping
/// the batch.
///
/// Subfolder names (``folderNames(for:)``): the file name without its extension (`photos/cat.jpg`
/// → `cat`); names that clash, ignoring case, use the whole file name with `.` replaced by `_`
/// (`cat.jpg`, `cat.png` → `cat_jpg`, `cat_png`); a name still taken gets `-2`, `-3`, ... in
/// argument order. A leading `.` becomes `_` (no hidden folders) and `failures.csv` is reserved.
public struct ImageBatch: Sendable {
    /// One image that failed: the file as given and the reason on one line.
    public struct Failure: Sendable, Equatable, Encodable {
        public var file: String
        public var reason: String

        public init(file: String, reason: String) {
            self.file = file
            self.reason = reason
        }

        /// The failure of `file` from `error`, the error's leading `file: ` (relative, absolute or
        /// base name) dropped and line breaks folded into spaces.
        public init(file: String, error: any Error) {
            var text = "\(error)".split(whereSeparator: \.isNewline).joined(separator: " ")
            let url = URL(fileURLWithPath: file)
            for name in [file, url.standardizedFileURL.path, url.path, url.lastPathComponent] where text.hasPrefix(name + ": ") {
                text = String(text.dropFirst(name.count + 2))
                break
            }
            self.init(file: file, reason: text)
        }

        /// `file: reason`, as the end-of-batch report prints it.
        public var line: String { "\(file): \(reason)" }
    }

    /// The name of the failure list a batch writes beside the subfolders.
    public static let failuresFileName = "failures.csv"

    /// The image files, as given.
    public let files: [String]
    /// The subfolder of each file (same order).
    public let folders: [String]

    public init(files: [String]) {
        self.files = files
        folders = Self.folderNames(for: files)
    }

    /// Calls `body(index, file)` for each file in order, counting it on `progress`. An error ends
    /// only that file's work and is collected, except errors that would repeat for every file
    /// (``stopsBatch(_:)``), which stop the batch and are rethrown.
    /// - Returns: the failures, in order.
    public func run(progress: ProgressBar? = nil, _ body: (_ index: Int, _ file: String) throws -> Void) throws -> [Failure] {
        var failures: [Failure] = []
        defer { progress?.finish() }
        for (i, file) in files.enumerated() {
            progress?.begin(file)
            do {
                try body(i, file)
                progress?.advance(file)
            } catch where Self.stopsBatch(error) {
                throw error
            } catch {
                failures.append(Failure(file: file, error: error))
                progress?.advance(file, failed: true)
            }
        }
        return failures
    }

    /// Runs the files in chunks of `batchSize` in order: `prepare` turns each file of a chunk into
    /// an input, `compute` runs the chunk's prepared inputs together (one result per input, in
    /// order), then `body(index, file, value)` takes each success. Errors are collected per file
    /// as in ``run(progress:_:)`` (``stopsBatch(_:)`` errors are rethrown); failures come in file
    /// order.
    /// - Returns: the failures, in order.
    public func run<Value>(batchSize: Int, progress: ProgressBar? = nil,
                           prepare: (_ index: Int, _ file: String) throws -> AnalysisInput,
                           compute: ([AnalysisInput]) -> [Result<Value, any Error>],
                           _ body: (_ index: Int, _ file: String, _ value: Value) throws -> Void) throws -> [Failure] {
        var failures: [Failure] = []
        defer { progress?.finish() }
        var start = 0
        while start < files.count {
            let chunk = start ..< min(files.count, start + max(1, batchSize))
            var errors: [Int: any Error] = [:]
            var prepared: [(index: Int, input: AnalysisInput)] = []
            for i in chunk {
                progress?.begin(files[i])
                do { prepared.append((i, try prepare(i, files[i]))) } catch { errors[i] = error }
            }
            let results = compute(prepared.map(\.input))
            for (item, result) in zip(prepared, results) {
                do { try body(item.index, files[item.index], try result.get()) } catch { errors[item.index] = error }
            }
            for i in chunk {
                if let error = errors[i] {
                    if Self.stopsBatch(error) { throw error }
                    failures.append(Failure(file: files[i], error: error))
                    progress?.advance(files[i], failed: true)
                } else {
                    progress?.advance(files[i])
                }
            }
            start = chunk.upperBound
        }
        return failures
    }

    /// Whether `error` concerns the options or the output rather than one image (a layer or head the
    /// model lacks, a model without CLS, an output folder that cannot be written), so that every
    /// other image would fail the same way.
    public static func stopsBatch(_ error: any Error) -> Bool {
        switch error {
        case let e as SessionError:
            if case .noResult = e { return false }
            return true
        case let e as AnalysisError:
            switch e {
            case .layerOutOfRange, .emptyLayerRange, .headOutOfRange, .noCLSToken, .discardRatioOutOfRange, .thresholdOutOfRange: return true
            default: return false
            }
        case is OutputFolderError: return true
        default: return false
        }
    }

    /// One subfolder name per file (the rule in the type's description).
    public static func folderNames(for files: [String]) -> [String] {
        let bases = files.map { URL(fileURLWithPath: $0).lastPathComponent }
        func visible(_ name: String) -> String {
            if name.isEmpty { return "image" }
            return name.hasPrefix(".") ? "_" + name.dropFirst() : name
        }
        let stems = bases.map { visible(($0 as NSString).deletingPathExtension) }
        var counts: [String: Int] = [:]
        for s in stems { counts[s.lowercased(), default: 0] += 1 }
        var taken: Set<String> = [failuresFileName, OutputFolder.manifestName]
        var names: [String] = []
        for (i, base) in bases.enumerated() {
            var name = stems[i]
            if counts[name.lowercased(), default: 0] > 1 || taken.contains(name.lowercased()) {
                name = visible(base.replacingOccurrences(of: ".", with: "_"))
            }
            var candidate = name
            var k = 2
            while taken.contains(candidate.lowercased()) {
                candidate = "\(name)-\(k)"
                k += 1
            }
            taken.insert(candidate.lowercased())
            names.append(candidate)
        }
        return names
    }

    /// `failures.csv`: a `file,reason` header and one row per failure (RFC 4180 quoting).
    public static func failuresCSV(_ failures: [Failure]) -> Data {
        func field(_ s: String) -> String {
            s.contains(where: { $0 == "," || $0 == "\"" || $0.isNewline }) ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
        }
        return Data((["file,reason"] + failures.map { field($0.file) + "," + field($0.reason) }).map { $0 + "\n" }.joined().utf8)
    }

    /// The end-of-batch report: `N of M images failed:` and one `file: reason` line per failure
    /// (empty when nothing failed).
    public static func report(_ failures: [Failure], of count: Int) -> [String] {
        guard !failures.isEmpty else { return [] }
        return ["\(failures.count) of \(count) image\(count == 1 ? "" : "s") failed:"] + failures.map { "  " + $0.line }
    }
}
