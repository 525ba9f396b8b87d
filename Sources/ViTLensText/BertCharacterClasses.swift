/// The per-scalar facts BERT's normalizer and pre-tokenizer use, read from ``BertUnicodeTables``.
///
/// Hugging Face `tokenizers` takes these from Unicode tables frozen inside two Rust crates
/// (`unicode_categories`, `unicode-normalization-alignments`) plus Rust's standard library, so
/// they differ from Swift's newer `Unicode.Scalar.Properties` for a few hundred scalars (emoji and
/// punctuation added since Unicode 9, new combining marks). Using the probed tables instead keeps
/// the Swift port exact whatever Unicode version the Swift runtime has.
struct BertCharacterClasses: Sendable {
    /// Bit flags of one scalar.
    struct Flags: OptionSet, Sendable {
        let rawValue: UInt8
        /// Deleted by `clean_text`.
        static let removed = Flags(rawValue: 1)
        /// `char::is_whitespace`.
        static let whitespace = Flags(rawValue: 2)
        /// Isolated by the pre-tokenizer.
        static let punctuation = Flags(rawValue: 4)
        /// Surrounded by spaces by `handle_chinese_chars`.
        static let chinese = Flags(rawValue: 8)
        /// Deleted by `strip_accents` (Mn).
        static let strippedMark = Flags(rawValue: 16)
        /// Changed by `strip_accents` into other scalars (canonical decomposition minus Mn).
        static let stripMapped = Flags(rawValue: 32)
        /// Changed by lowercasing.
        static let lowercaseMapped = Flags(rawValue: 64)
    }

    /// The tables, parsed once.
    static let shared = BertCharacterClasses()

    /// Flags of every scalar below U+10000.
    let basicPlane: [Flags]
    /// Supplementary planes as sorted, disjoint segments: `segmentStarts[i] ..< segmentStarts[i+1]`
    /// has `segmentFlags[i]`.
    private let segmentStarts: [UInt32]
    private let segmentFlags: [Flags]
    /// `strip_accents` results for scalars flagged `stripMapped` (Hangul syllables are computed).
    private let stripMap: [UInt32: [UInt32]]
    /// Lowercase results for scalars flagged `lowercaseMapped`.
    private let lowercaseMap: [UInt32: [UInt32]]

    /// The code-point blocks `handle_chinese_chars` treats as Chinese (tokenizers' `is_chinese_char`;
    /// note the gap U+2B820...U+2B91F, which the Python BERT tokenizer does not have).
    static let chineseRanges: [ClosedRange<UInt32>] = [
        0x4E00 ... 0x9FFF, 0x3400 ... 0x4DBF, 0x20000 ... 0x2A6DF, 0x2A700 ... 0x2B73F,
        0x2B740 ... 0x2B81F, 0x2B920 ... 0x2CEAF, 0xF900 ... 0xFAFF, 0x2F800 ... 0x2FA1F,
    ]

    /// Hangul syllables, which `strip_accents` decomposes algorithmically (UAX #15).
    static let hangulSyllables: ClosedRange<UInt32> = 0xAC00 ... 0xD7A3

    private init() {
        let strip = Self.parseMapping(runs: BertUnicodeTables.stripAccentsRuns, multi: BertUnicodeTables.stripAccentsMulti)
        let lower = Self.parseMapping(runs: BertUnicodeTables.lowercaseRuns, multi: BertUnicodeTables.lowercaseMulti)
        var entries: [(range: ClosedRange<UInt32>, flags: Flags)] = []
        entries += Self.parseRanges(BertUnicodeTables.removedByCleanText).map { ($0, .removed) }
        entries += Self.parseRanges(BertUnicodeTables.whitespace).map { ($0, .whitespace) }
        entries += Self.parseRanges(BertUnicodeTables.punctuation).map { ($0, .punctuation) }
        entries += Self.parseRanges(BertUnicodeTables.strippedMarks).map { ($0, .strippedMark) }
        entries += Self.chineseRanges.map { ($0, .chinese) }
        entries.append((Self.hangulSyllables, .stripMapped))
        entries += strip.keys.map { ($0 ... $0, .stripMapped) }
        entries += lower.keys.map { ($0 ... $0, .lowercaseMapped) }

        var plane = [Flags](repeating: [], count: 0x10000)
        var boundaries: Set<UInt32> = [0x10000]
        for entry in entries {
            if entry.range.lowerBound < 0x10000 {
                for scalar in entry.range.lowerBound ... min(entry.range.upperBound, 0xFFFF) {
                    plane[Int(scalar)].insert(entry.flags)
                }
            }
            if entry.range.upperBound >= 0x10000 {
                boundaries.insert(max(entry.range.lowerBound, 0x10000))
                boundaries.insert(entry.range.upperBound + 1)
            }
        }
        let starts = boundaries.sorted()
        var flags = [Flags](repeating: [], count: starts.count)
        for entry in entries where entry.range.upperBound >= 0x10000 {
            // Segments never straddle an entry's bounds, so each segment is wholly in or out.
            var index = Self.segmentIndex(of: max(entry.range.lowerBound, 0x10000), in: starts)
            while index < starts.count, starts[index] <= entry.range.upperBound {
                flags[index].insert(entry.flags)
                index += 1
            }
        }
        basicPlane = plane
        segmentStarts = starts
        segmentFlags = flags
        stripMap = strip
        lowercaseMap = lower
    }

    /// The index of the last segment starting at or before `scalar` (`starts[0]` is U+10000).
    private static func segmentIndex(of scalar: UInt32, in starts: [UInt32]) -> Int {
        var low = 0
        var high = starts.count - 1
        while low < high {
            let middle = (low + high + 1) / 2
            if starts[middle] <= scalar { low = middle } else { high = middle - 1 }
        }
        return low
    }

    /// The flags of `scalar`.
    @inline(__always)
    func flags(_ scalar: UInt32) -> Flags {
        if scalar < 0x10000 { return basicPlane[Int(scalar)] }
        return segmentFlags[Self.segmentIndex(of: scalar, in: segmentStarts)]
    }

    /// Calls `body` with the flags of the basic plane as a buffer pointer, for tight loops.
    func withBasicPlane<R>(_ body: (UnsafeBufferPointer<Flags>) -> R) -> R {
        basicPlane.withUnsafeBufferPointer(body)
    }

    /// Calls `body` with the `strip_accents` result of a scalar flagged `stripMapped`.
    @inline(__always)
    func forEachStripped(_ scalar: UInt32, _ body: (UInt32) -> Void) {
        if Self.hangulSyllables.contains(scalar) {
            // Hangul syllable: canonical decomposition into leading, vowel and optional trailing jamo.
            let index = scalar - 0xAC00
            body(0x1100 + index / 588)
            body(0x1161 + (index % 588) / 28)
            if index % 28 != 0 { body(0x11A7 + index % 28) }
            return
        }
        for result in stripMap[scalar] ?? [scalar] { body(result) }
    }

    /// Calls `body` with the lowercase result of a scalar flagged `lowercaseMapped`.
    @inline(__always)
    func forEachLowercased(_ scalar: UInt32, _ body: (UInt32) -> Void) {
        for result in lowercaseMap[scalar] ?? [scalar] { body(result) }
    }

    // MARK: - Table parsing (the formats are described in BertUnicodeTables.swift)

    /// Unwraps a value parsed from the generated tables; a failure is a bug in the generator.
    private static func parsed<T>(_ value: T?, _ item: Substring) -> T {
        guard let value else { preconditionFailure("malformed item '\(item)' in BertUnicodeTables") }
        return value
    }

    private static func hex(_ text: Substring) -> UInt32 { parsed(UInt32(text, radix: 16), text) }

    private static func items(_ table: String) -> [Substring] {
        table.split(whereSeparator: { $0 == " " || $0 == "\n" })
    }

    static func parseRanges(_ table: String) -> [ClosedRange<UInt32>] {
        items(table).map { item in
            let bounds = item.split(separator: "-")
            let low = hex(bounds[0])
            return low ... (bounds.count > 1 ? hex(bounds[1]) : low)
        }
    }

    static func parseMapping(runs: String, multi: String) -> [UInt32: [UInt32]] {
        var map: [UInt32: [UInt32]] = [:]
        for item in items(runs) {
            // S+N/K:D (offset D) or S+N/K=T (constant T)
            let plus = parsed(item.firstIndex(of: "+"), item)
            let slash = parsed(item.firstIndex(of: "/"), item)
            let separator = parsed(item.firstIndex(where: { $0 == ":" || $0 == "=" }), item)
            let start = hex(item[..<plus])
            let count = parsed(UInt32(item[item.index(after: plus) ..< slash]), item)
            let step = parsed(UInt32(item[item.index(after: slash) ..< separator]), item)
            let value = item[item.index(after: separator)...]
            let delta = item[separator] == ":" ? parsed(Int64(value), item) : 0
            for k in 0 ..< count {
                let scalar = start + k * step
                map[scalar] = [item[separator] == ":" ? UInt32(Int64(scalar) + delta) : hex(value)]
            }
        }
        for item in items(multi) {
            let parts = item.split(separator: ">", omittingEmptySubsequences: false)
            map[hex(parts[0])] = parts[1].isEmpty ? [] : parts[1].split(separator: ",").map { hex($0) }
        }
        return map
    }
}
