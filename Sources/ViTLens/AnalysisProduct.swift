import Foundation

/// The files one analysis produces, ready for any front end to write (the CLI's output folder, the
/// viewer's responses, a report): arrays, pictures and metadata, plus the summary lines a terminal
/// shows.
public struct AnalysisProduct: Sendable {
    /// One file's content.
    public enum Content: Sendable {
        /// A float32 `.npy`.
        case array(Tensor)
        /// Bytes as they are (an encoded `.npy` of another dtype, CSV, SVG).
        case bytes(Data)
        /// A PNG picture.
        case png(RGBImage)
        /// A JSON document (pretty-printed, sorted keys).
        case json(any Encodable & Sendable)
    }

    /// The files in order: name (relative path) and content.
    public private(set) var files: [(name: String, content: Content)] = []
    /// Lines for a terminal (the CLI prints them unless `--quiet`).
    public var summary: [String] = []
    /// One-line warnings about the result (the CLI prints them on stderr, even with `--quiet`).
    public var warnings: [String] = []

    public init() {}

    /// Adds a file.
    public mutating func add(_ name: String, _ content: Content) { files.append((name, content)) }

    /// The content of `name`, if produced.
    public func content(of name: String) -> Content? { files.first { $0.name == name }?.content }

    /// The JSON encoding ViTLens writes everywhere: pretty-printed, sorted keys, `/` unescaped, newline-terminated.
    public static func encodeJSON(_ value: some Encodable) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(value) + Data("\n".utf8)
    }
}

/// A metadata file: the ``Provenance`` fields and an analysis's own fields, side by side in one JSON
/// object.
public struct Metadata<Fields: Encodable & Sendable>: Encodable, Sendable {
    public var provenance: Provenance
    public var fields: Fields

    public init(_ provenance: Provenance, _ fields: Fields) {
        self.provenance = provenance
        self.fields = fields
    }

    public func encode(to encoder: any Swift.Encoder) throws {
        try provenance.encode(to: encoder)
        try fields.encode(to: encoder)
    }
}
