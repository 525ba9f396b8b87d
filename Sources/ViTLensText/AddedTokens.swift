/// A token matched in the raw text before WordPiece runs, such as `[MASK]` or `[SEP]`
/// (an entry of `added_tokens` in `tokenizer.json`).
struct AddedToken: Sendable, Equatable {
    var content: String
    var id: Int
    /// Special tokens are dropped by `decode(_:skipSpecialTokens: true)`.
    var special: Bool
    /// Match only when not glued to word characters on either side.
    var singleWord = false
    /// Also swallow the whitespace before (`lstrip`) or after (`rstrip`) a match.
    var lstrip = false
    var rstrip = false
    /// Match in the normalized text (`true`) or in the raw text (`false`, the usual for specials).
    var normalized = false
}

/// Finds added tokens in text, leftmost-longest first, the way `tokenizers`' `AddedVocabulary`
/// does with its Aho-Corasick automaton.
struct AddedTokenMatcher: Sendable {
    /// Patterns as scalars, longest first, with the index of their token.
    private let patterns: [(scalars: [UInt32], token: Int)]
    private let tokens: [AddedToken]
    /// The distinct first scalars of all patterns, for a quick skip (usually just "[").
    private let firstScalars: [UInt32]

    /// A matcher for `tokens`, each looked for as `pattern(token)` (its content, or its normalized content).
    init(tokens: [AddedToken], pattern: (AddedToken) -> [UInt32]) {
        self.tokens = tokens
        var patterns: [(scalars: [UInt32], token: Int)] = []
        for (index, token) in tokens.enumerated() {
            let scalars = pattern(token)
            if !scalars.isEmpty { patterns.append((scalars, index)) }
        }
        // Longest first; among equal lengths the earlier token (stable sort).
        self.patterns = patterns.enumerated().sorted {
            $0.element.scalars.count != $1.element.scalars.count
                ? $0.element.scalars.count > $1.element.scalars.count : $0.offset < $1.offset
        }.map(\.element)
        firstScalars = Array(Set(patterns.map { $0.scalars[0] })).sorted()
    }

    var isEmpty: Bool { patterns.isEmpty }

    /// Splits `text[range]` into pieces: runs of ordinary text (`token == nil`) and added-token
    /// matches. The pieces cover `range` in order; empty runs are omitted.
    func split(_ text: UnsafeBufferPointer<UInt32>, _ range: Range<Int>,
               classes: BertCharacterClasses) -> [(range: Range<Int>, token: AddedToken?)] {
        var pieces: [(range: Range<Int>, token: AddedToken?)] = []
        var pieceStart = range.lowerBound
        var position = range.lowerBound
        while position < range.upperBound {
            guard firstScalars.contains(text[position]), let (length, token) = match(text, at: position, end: range.upperBound)
            else {
                position += 1
                continue
            }
            var start = position
            var stop = position + length
            position = stop
            if token.singleWord {
                let wordBefore = start > range.lowerBound && Self.isWordScalar(text[start - 1])
                let wordAfter = stop < range.upperBound && Self.isWordScalar(text[stop])
                if wordBefore || wordAfter { continue }
            }
            if token.lstrip {
                var newStart = start
                while newStart > range.lowerBound, classes.flags(text[newStart - 1]).contains(.whitespace) { newStart -= 1 }
                start = max(newStart, pieceStart)
            }
            if token.rstrip {
                while stop < range.upperBound, classes.flags(text[stop]).contains(.whitespace) { stop += 1 }
            }
            if pieceStart < start { pieces.append((pieceStart ..< start, nil)) }
            pieces.append((start ..< stop, token))
            pieceStart = stop
        }
        if pieceStart < range.upperBound { pieces.append((pieceStart ..< range.upperBound, nil)) }
        return pieces
    }

    /// The longest pattern matching at `position`.
    private func match(_ text: UnsafeBufferPointer<UInt32>, at position: Int, end: Int) -> (Int, AddedToken)? {
        for pattern in patterns where position + pattern.scalars.count <= end {
            var equal = true
            for (offset, scalar) in pattern.scalars.enumerated() where text[position + offset] != scalar {
                equal = false
                break
            }
            if equal { return (pattern.scalars.count, tokens[pattern.token]) }
        }
        return nil
    }

    /// A regex `\w` scalar (Unicode Alphabetic, marks, decimal digits, connector punctuation, join controls).
    private static func isWordScalar(_ value: UInt32) -> Bool {
        guard let scalar = Unicode.Scalar(value) else { return false }
        let properties = scalar.properties
        if properties.isAlphabetic || properties.isJoinControl { return true }
        switch properties.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark, .decimalNumber, .connectorPunctuation: return true
        default: return false
        }
    }
}
