/// The tokens of one text before special tokens are added: ids, strings and input spans.
struct SequenceEncoding {
    var ids: [Int] = []
    var tokens: [String] = []
    var offsets: [Range<Int>] = []

    mutating func append(id: Int, token: String, span: Range<Int>) {
        ids.append(id)
        tokens.append(token)
        offsets.append(span)
    }

    mutating func truncate(to length: Int) {
        guard ids.count > length else { return }
        ids.removeSubrange(length...)
        tokens.removeSubrange(length...)
        offsets.removeSubrange(length...)
    }

    var count: Int { ids.count }
}

/// One element of a post-processing template (`tokenizers`' `TemplateProcessing` pieces).
enum TemplatePiece: Sendable, Equatable {
    /// Special tokens inserted as they are (usually one id), with their segment id.
    case special(ids: [Int], tokens: [String], typeId: Int)
    /// The first (`second == false`) or second text, with its segment id.
    case sequence(second: Bool, typeId: Int)
}

/// How special tokens and segment ids are put around one text or a pair.
struct PostProcessorTemplate: Sendable, Equatable {
    var single: [TemplatePiece]
    var pair: [TemplatePiece]

    /// BERT's `[CLS] A [SEP]` and `[CLS] A [SEP] B [SEP]` with segment ids 0 0 0 / 1 1.
    static func bert(cls: (token: String, id: Int), sep: (token: String, id: Int)) -> PostProcessorTemplate {
        let clsPiece = TemplatePiece.special(ids: [cls.id], tokens: [cls.token], typeId: 0)
        let sepPiece = TemplatePiece.special(ids: [sep.id], tokens: [sep.token], typeId: 0)
        return PostProcessorTemplate(
            single: [clsPiece, .sequence(second: false, typeId: 0), sepPiece],
            pair: [clsPiece, .sequence(second: false, typeId: 0), sepPiece, .sequence(second: true, typeId: 1),
                   .special(ids: [sep.id], tokens: [sep.token], typeId: 1)])
    }

    /// No post-processor: the texts alone, segment ids 0 and 1.
    static let none = PostProcessorTemplate(single: [.sequence(second: false, typeId: 0)],
                                            pair: [.sequence(second: false, typeId: 0), .sequence(second: true, typeId: 1)])

    /// How many special tokens the template adds.
    func addedCount(pair isPair: Bool) -> Int {
        (isPair ? pair : single).reduce(0) { count, piece in
            if case .special(let ids, _, _) = piece { return count + ids.count }
            return count
        }
    }

    /// Truncates to `maxLength` tokens in all (special tokens included) and applies the template.
    ///
    /// Truncation follows `tokenizers`' `truncate_encodings` with the `longest_first` strategy:
    /// the budget is `maxLength` minus the special tokens (never below 0); a single text keeps its
    /// first `budget` tokens; for a pair, with n1 ≤ n2 the two lengths, the shorter one keeps
    /// n1 and the longer `max(n1, budget - n1)` tokens, unless that still exceeds the budget, in
    /// which case the shorter keeps `budget / 2` and the longer `budget / 2 + budget % 2`.
    func apply(_ first: SequenceEncoding, _ second: SequenceEncoding?, addSpecialTokens: Bool, maxLength: Int) -> TextEncoding {
        var first = first
        var second = second
        let untruncated = first.count + (second?.count ?? 0) + (addSpecialTokens ? addedCount(pair: second != nil) : 0)
        if maxLength < Int.max {
            let budget = max(0, maxLength - (addSpecialTokens ? addedCount(pair: second != nil) : 0))
            Self.truncate(&first, &second, budget: budget)
        }
        var result = TextEncoding(ids: [], tokens: [], typeIds: [], attentionMask: [], offsets: [], untruncatedCount: untruncated)
        for piece in second == nil ? single : pair {
            switch piece {
            case .special(let ids, let tokens, let typeId):
                guard addSpecialTokens else { continue }
                result.ids += ids
                result.tokens += tokens
                result.typeIds += Array(repeating: typeId, count: ids.count)
                result.offsets += Array(repeating: nil, count: ids.count)
            case .sequence(let isSecond, let typeId):
                guard let sequence = isSecond ? second : first else { continue }
                result.ids += sequence.ids
                result.tokens += sequence.tokens
                result.typeIds += Array(repeating: typeId, count: sequence.count)
                result.offsets += sequence.offsets.map { Optional($0) }
            }
        }
        result.attentionMask = Array(repeating: 1, count: result.ids.count)
        return result
    }

    private static func truncate(_ first: inout SequenceEncoding, _ second: inout SequenceEncoding?, budget: Int) {
        guard var pair = second else {
            first.truncate(to: budget)
            return
        }
        defer { second = pair }
        if budget == 0 {
            first.truncate(to: 0)
            pair.truncate(to: 0)
            return
        }
        guard first.count + pair.count > budget else { return }
        var n1 = first.count
        var n2 = pair.count
        let swapped = n1 > n2
        if swapped { swap(&n1, &n2) }
        n2 = n1 > budget ? n1 : max(n1, budget - n1)
        if n1 + n2 > budget {
            n1 = budget / 2
            n2 = n1 + budget % 2
        }
        if swapped { swap(&n1, &n2) }
        first.truncate(to: n1)
        pair.truncate(to: n2)
    }
}

/// Turns tokens back into text: `tokenizers`' WordPiece decoder.
///
/// Every token but the first gets a leading space unless it starts with the continuing-subword
/// prefix, which is removed instead; with `cleanup`, each piece then has " ." " ?" " !" " ,"
/// " ' " " n't" " 'm" " do not" " 's" " 've" " 're" replaced by their unspaced forms
/// (" do not" becomes " don't"), as in `tokenizers`' `cleanup`.
struct WordPieceDecoder: Sendable, Equatable {
    var prefix = "##"
    var cleanup = true

    private static let replacements: [(String, String)] = [
        (" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"), (" 'm", "'m"),
        (" do not", " don't"), (" 's", "'s"), (" 've", "'ve"), (" 're", "'re"),
    ]

    func decode(_ tokens: [String]) -> String {
        var output = ""
        for (index, token) in tokens.enumerated() {
            var piece: String
            if index != 0 {
                if let rest = Self.removingPrefix(prefix, from: token) {
                    piece = rest
                } else {
                    piece = " " + token
                }
            } else {
                piece = token
            }
            if cleanup, piece.unicodeScalars.contains(" ") {
                for (from, to) in Self.replacements { piece = Self.replacingAll(from, with: to, in: piece) }
            }
            output += piece
        }
        return output
    }

    /// `token` without a leading `prefix`, comparing scalars exactly (as Rust's `starts_with`).
    private static func removingPrefix(_ prefix: String, from token: String) -> String? {
        let scalars = Array(token.unicodeScalars)
        let prefixScalars = Array(prefix.unicodeScalars)
        guard scalars.count >= prefixScalars.count, Array(scalars[..<prefixScalars.count]) == prefixScalars else { return nil }
        var rest = String.UnicodeScalarView()
        rest.append(contentsOf: scalars[prefixScalars.count...])
        return String(rest)
    }

    /// Replaces every occurrence of `pattern` (exact scalars, left to right, non-overlapping).
    private static func replacingAll(_ pattern: String, with replacement: String, in text: String) -> String {
        let source = Array(text.unicodeScalars)
        let needle = Array(pattern.unicodeScalars)
        guard source.count >= needle.count else { return text }
        var output = String.UnicodeScalarView()
        var index = 0
        var changed = false
        while index < source.count {
            if index + needle.count <= source.count, source[index] == needle[0],
               Array(source[index ..< index + needle.count]) == needle {
                output.append(contentsOf: replacement.unicodeScalars)
                index += needle.count
                changed = true
            } else {
                output.append(source[index])
                index += 1
            }
        }
        return changed ? String(output) : text
    }
}
