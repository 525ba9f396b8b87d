import Foundation

/// The image files a multi-image command reads, expanded from its `INPUTS...` arguments, sorted and
/// de-duplicated, with a deterministic split into shards.
///
/// Each argument is one of:
/// - a **file**, taken as it is whatever its extension (a file that is not an image fails later, as
///   that image's failure);
/// - a **folder**, searched recursively for `.jpg`, `.jpeg` and `.png` files (extension compared
///   case-insensitively); files and folders whose name starts with `.` are skipped, and so are other
///   extensions; symbolic links to folders are not followed;
/// - **`@list.txt`**, a text file with one path per line, relative to the list file's folder unless
///   absolute; blank lines and lines starting with `#` (after leading spaces) are skipped; each line
///   is a file or a folder as above (a list does not name other lists).
///
/// The expanded paths are sorted by their UTF-8 bytes and de-duplicated (two spellings of one file,
/// `a/x.jpg` and `a/./x.jpg`, count once: the first in byte order is kept). The order therefore does
/// not depend on the order of the arguments, the file system or the locale, so every shard of a run
/// sees the same list.
///
/// ```swift
/// let list = try InputList(expanding: ["photos", "@more.txt"])
/// for item in try list.shard(Shard(parsing: "0/4")) { print(item.index, item.path) }
/// ```
public struct InputList: Sendable, Equatable {
    /// The extensions a folder search keeps (lower case, without the dot).
    public static let imageExtensions: Set<String> = ["jpg", "jpeg", "png"]

    /// One input: its position in the whole sorted list and its path (as expanded: relative paths
    /// stay relative to the current folder).
    public struct Item: Sendable, Equatable, Hashable {
        /// Position in ``InputList/paths`` (0-based), the same in every shard.
        public var index: Int
        /// The file.
        public var path: String

        public init(index: Int, path: String) {
            self.index = index
            self.path = path
        }
    }

    /// Every input, sorted by UTF-8 bytes and de-duplicated.
    public let paths: [String]

    /// A list of already expanded paths (sorted and de-duplicated here, not checked on disk).
    public init(paths: [String]) {
        self.paths = Self.sortedUnique(paths)
    }

    /// Expands `arguments` (files, folders, `@list.txt`) as the type's description says.
    /// - Throws: ``InputListError`` naming the argument or list line at fault: a path that does not
    ///   exist, an unreadable folder or list, an empty `@`, or no image at all.
    public init(expanding arguments: [String], fileManager: FileManager = .default) throws {
        var found: [String] = []
        for argument in arguments {
            if argument.hasPrefix("@") {
                let listPath = String(argument.dropFirst())
                guard !listPath.isEmpty else { throw InputListError.emptyListName }
                found += try Self.readList(listPath, fileManager: fileManager)
            } else {
                found += try Self.expand(argument, origin: nil, fileManager: fileManager)
            }
        }
        guard !found.isEmpty else { throw InputListError.noImages(arguments: arguments) }
        paths = Self.sortedUnique(found)
    }

    /// Number of inputs.
    public var count: Int { paths.count }

    /// Every input with its index.
    public var items: [Item] { paths.enumerated().map { Item(index: $0.offset, path: $0.element) } }

    /// The inputs of `shard`: index `i` belongs to shard `i mod shard.count` (round robin, so shards
    /// differ in size by one at most and neighbouring files, often alike, spread over all shards).
    /// A shard may be empty when there are fewer inputs than shards.
    public func shard(_ shard: Shard) -> [Item] {
        stride(from: shard.index, to: paths.count, by: shard.count).map { Item(index: $0, path: paths[$0]) }
    }

    // MARK: - Expansion

    private static func readList(_ listPath: String, fileManager: FileManager) throws -> [String] {
        let url = URL(fileURLWithPath: listPath)
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw InputListError.unreadableList(file: listPath, reason: fileManager.fileExists(atPath: listPath) ? "cannot be read" : "no such file")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw InputListError.unreadableList(file: listPath, reason: "is not UTF-8 text")
        }
        let folder = (listPath as NSString).deletingLastPathComponent
        var found: [String] = []
        // "\r\n" is one Character, so CRLF lists split like LF ones.
        for (number, line) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            let path = trimmed.hasPrefix("/") || folder.isEmpty ? trimmed : (folder as NSString).appendingPathComponent(trimmed)
            found += try expand(path, origin: "\(listPath):\(number + 1)", fileManager: fileManager)
        }
        return found
    }

    /// A file as it is, or a folder's images; `origin` names the list line the path came from.
    private static func expand(_ path: String, origin: String?, fileManager: FileManager) throws -> [String] {
        var isFolder: ObjCBool = false
        guard !path.isEmpty, fileManager.fileExists(atPath: path, isDirectory: &isFolder) else {
            throw InputListError.missing(path: path, origin: origin)
        }
        guard isFolder.boolValue else { return [path] }
        return try folderImages(path, origin: origin, fileManager: fileManager)
    }

    private static func folderImages(_ folder: String, origin: String?, fileManager: FileManager) throws -> [String] {
        let names: [String]
        do { names = try fileManager.contentsOfDirectory(atPath: folder) } catch {
            throw InputListError.unreadableFolder(path: folder, origin: origin)
        }
        var found: [String] = []
        for name in names where !name.hasPrefix(".") {
            let path = (folder as NSString).appendingPathComponent(name)
            let attributes = try? fileManager.attributesOfItem(atPath: path)
            let type = attributes?[.type] as? FileAttributeType
            if type == .typeDirectory {
                found += try folderImages(path, origin: origin, fileManager: fileManager)
            } else if imageExtensions.contains((name as NSString).pathExtension.lowercased()) {
                found.append(path)
            }
        }
        return found
    }

    /// Sorts by UTF-8 bytes and keeps the first of the paths naming the same file (standardised).
    private static func sortedUnique(_ paths: [String]) -> [String] {
        let sorted = paths.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        var seen: Set<String> = []
        var result: [String] = []
        for p in sorted where seen.insert(URL(fileURLWithPath: p).standardizedFileURL.path).inserted { result.append(p) }
        return result
    }
}

/// One of `count` parts of an input list (`--shard I/N`, `0 <= I < N`).
public struct Shard: Sendable, Equatable, Hashable, Codable, CustomStringConvertible {
    /// This part, `0 ..< count`.
    public let index: Int
    /// Number of parts.
    public let count: Int

    /// The whole list as one shard (`0/1`).
    public static let whole = Shard(checkedIndex: 0, count: 1)

    private init(checkedIndex: Int, count: Int) {
        index = checkedIndex
        self.count = count
    }

    /// A shard; fails for `count < 1` or an index outside `0 ..< count`.
    public init(index: Int, count: Int) throws {
        guard count >= 1, index >= 0, index < count else { throw InputListError.badShard(text: "\(index)/\(count)") }
        self.init(checkedIndex: index, count: count)
    }

    /// Parses `I/N` (decimal, `0 <= I < N`, `N` at most 1,000,000).
    public init(parsing text: String) throws {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]), n <= 1_000_000,
              parts.allSatisfy({ $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }) else {
            throw InputListError.badShard(text: text)
        }
        try self.init(index: i, count: n)
    }

    /// `I/N`.
    public var description: String { "\(index)/\(count)" }
}

/// Why an input list could not be built: one line naming the argument, list line or value.
public enum InputListError: Error, CustomStringConvertible, Equatable {
    /// A file or folder that does not exist (`origin`: the `list.txt:LINE` it came from).
    case missing(path: String, origin: String?)
    case unreadableFolder(path: String, origin: String?)
    case unreadableList(file: String, reason: String)
    /// `@` without a file name.
    case emptyListName
    /// The arguments named no image at all.
    case noImages(arguments: [String])
    /// A `--shard` value that is not `I/N` with `0 <= I < N`.
    case badShard(text: String)

    public var description: String {
        func from(_ origin: String?) -> String { origin.map { " (\($0))" } ?? "" }
        switch self {
        case .missing(let p, let o): return "\(p): no such file or folder\(from(o))"
        case .unreadableFolder(let p, let o): return "\(p): the folder cannot be read\(from(o))"
        case .unreadableList(let f, let r): return "\(f): input list \(r)"
        case .emptyListName: return "@: an input list needs a file name (@list.txt)"
        case .noImages(let a):
            let shown = a.prefix(3).joined(separator: " ") + (a.count > 3 ? " ..." : "")
            return "\(shown.isEmpty ? "INPUTS" : shown): no images found (folders are searched for .jpg, .jpeg and .png)"
        case .badShard(let t): return "--shard \(t): expected I/N with 0 <= I < N (for example 0/4)"
        }
    }
}
