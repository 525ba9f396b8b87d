/// Text after normalization, with the input scalar each normalized scalar came from.
///
/// Mirrors the alignments of Hugging Face's `NormalizedString`: every scalar a step produces
/// (a lowercase expansion, a decomposition, the spaces around a CJK ideograph) inherits the
/// position of the input scalar it replaced, and deleted scalars leave no trace, so the span of a
/// normalized range in the input is `sources[first] ..< sources[last] + 1`.
struct NormalizedText {
    /// Normalized Unicode scalar values.
    var scalars: [UInt32] = []
    /// For each normalized scalar, the index of its input scalar.
    var sources: [Int] = []

    /// The input span of the normalized scalars `range` (which must not be empty).
    @inline(__always)
    func inputSpan(_ range: Range<Int>) -> Range<Int> {
        sources[range.lowerBound] ..< sources[range.upperBound - 1] + 1
    }
}

/// BERT's normalizer: `tokenizers`' `BertNormalizer`, applied in its order.
///
/// 1. `cleanText`: delete NUL, U+FFFD and control/format/private-use scalars (tab, LF and CR
///    excepted), then turn every whitespace scalar into U+0020.
/// 2. `handleChineseChars`: put U+0020 before and after each CJK ideograph.
/// 3. `stripAccents`: canonical decomposition (NFD), then delete nonspacing marks (Mn).
/// 4. `lowercase`: full Unicode lowercase mapping, scalar by scalar (no context, so a final
///    capital sigma becomes σ, as in Rust's `char::to_lowercase`).
///
/// Every step works scalar by scalar, so they compose per input scalar. The one thing not
/// reproduced is NFD's canonical reordering of combining marks; after Mn deletion it can only
/// matter for a few non-Mn marks with a nonzero combining class (e.g. U+1D165).
struct BertNormalizer: Sendable, Equatable {
    var cleanText = true
    var handleChineseChars = true
    /// Already resolved: `strip_accents: null` follows `lowercase`.
    var stripAccents = true
    var lowercase = true

    /// Appends the normalized form of `input[range]` to `output`.
    func normalize(_ input: UnsafeBufferPointer<UInt32>, _ range: Range<Int>, into output: inout NormalizedText,
                   classes: BertCharacterClasses) {
        output.scalars.reserveCapacity(output.scalars.count + range.count)
        output.sources.reserveCapacity(output.sources.count + range.count)
        for index in range {
            var scalar = input[index]
            let source = index
            if scalar < 0x80 {
                // ASCII: only cleaning and case change anything.
                if cleanText {
                    if scalar == 0x09 || scalar == 0x0A || scalar == 0x0D {
                        scalar = 0x20
                    } else if scalar < 0x20 || scalar == 0x7F {
                        continue
                    }
                }
                if lowercase, scalar >= 0x41, scalar <= 0x5A { scalar += 0x20 }
                output.scalars.append(scalar)
                output.sources.append(source)
                continue
            }
            let flags = classes.flags(scalar)
            if cleanText {
                if flags.contains(.removed) { continue }
                if flags.contains(.whitespace) {
                    output.scalars.append(0x20)
                    output.sources.append(source)
                    continue
                }
            }
            if handleChineseChars, flags.contains(.chinese) {
                output.scalars.append(0x20)
                output.sources.append(source)
                stripAndLowercase(scalar, flags: flags, source: source, into: &output, classes: classes)
                output.scalars.append(0x20)
                output.sources.append(source)
            } else {
                stripAndLowercase(scalar, flags: flags, source: source, into: &output, classes: classes)
            }
        }
    }

    /// Steps 3 and 4 for one scalar whose flags are known.
    @inline(__always)
    private func stripAndLowercase(_ scalar: UInt32, flags: BertCharacterClasses.Flags, source: Int,
                                   into output: inout NormalizedText, classes: BertCharacterClasses) {
        if stripAccents {
            if flags.contains(.strippedMark) { return }
            if flags.contains(.stripMapped) {
                classes.forEachStripped(scalar) { part in
                    lowercaseAppend(part, flags: part < 0x80 ? [] : classes.flags(part), source: source,
                                    into: &output, classes: classes)
                }
                return
            }
        }
        lowercaseAppend(scalar, flags: flags, source: source, into: &output, classes: classes)
    }

    @inline(__always)
    private func lowercaseAppend(_ scalar: UInt32, flags: BertCharacterClasses.Flags, source: Int,
                                 into output: inout NormalizedText, classes: BertCharacterClasses) {
        if lowercase {
            if scalar >= 0x41, scalar <= 0x5A {
                output.scalars.append(scalar + 0x20)
                output.sources.append(source)
                return
            }
            if flags.contains(.lowercaseMapped) {
                classes.forEachLowercased(scalar) { part in
                    output.scalars.append(part)
                    output.sources.append(source)
                }
                return
            }
        }
        output.scalars.append(scalar)
        output.sources.append(source)
    }
}
