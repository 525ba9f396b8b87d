/// A WordPiece vocabulary: token strings and ids, with a trie over Unicode scalars for
/// greedy longest-match lookups.
///
/// Tokens are compared scalar by scalar, never with Swift's `String ==` (which treats canonically
/// equivalent strings, such as precomposed "é" and "e" + U+0301, as equal): Hugging Face compares
/// bytes, and so must we. When a token occurs twice, the later id wins for lookups, as in a
/// Python dict or a Rust `HashMap` built in file order.
struct WordPieceVocabulary: Sendable {
    /// Token of each id (`nil` for ids no token maps to).
    let tokens: [String?]
    /// Trie in compressed-row form: node `n`'s children are `edgeScalars[childStart[n] ..< childStart[n+1]]`,
    /// sorted, leading to `edgeTargets[...]`. Node 0 is the root.
    private let childStart: [Int32]
    private let edgeScalars: [UInt32]
    private let edgeTargets: [Int32]
    /// Id of the token ending at each node, or -1.
    private let terminal: [Int32]

    /// Builds the vocabulary from `(token, id)` entries in file order; ids must be non-negative.
    init(entries: [(token: String, id: Int)]) {
        let size = (entries.map(\.id).max() ?? -1) + 1
        var tokens = [String?](repeating: nil, count: size)
        var edges: [UInt64: Int32] = [:]
        edges.reserveCapacity(entries.count * 4)
        var terminal: [Int32] = [-1]
        for entry in entries {
            var node: Int32 = 0
            for scalar in entry.token.unicodeScalars {
                let key = UInt64(UInt32(bitPattern: node)) << 21 | UInt64(scalar.value)
                if let next = edges[key] {
                    node = next
                } else {
                    let next = Int32(terminal.count)
                    terminal.append(-1)
                    edges[key] = next
                    node = next
                }
            }
            let previous = terminal[Int(node)]
            if previous >= 0, previous != Int32(entry.id) { tokens[Int(previous)] = nil }
            terminal[Int(node)] = Int32(entry.id)
            tokens[entry.id] = entry.token
        }
        // Flatten to compressed rows with children sorted by scalar.
        let sorted = edges.sorted { $0.key < $1.key }
        var childStart = [Int32](repeating: 0, count: terminal.count + 1)
        for (key, _) in sorted { childStart[Int(key >> 21) + 1] += 1 }
        for node in 0 ..< terminal.count { childStart[node + 1] += childStart[node] }
        self.childStart = childStart
        edgeScalars = sorted.map { UInt32($0.key & 0x1F_FFFF) }
        edgeTargets = sorted.map(\.value)
        self.terminal = terminal
        self.tokens = tokens
    }

    /// The number of ids (largest id + 1).
    var count: Int { tokens.count }

    /// The id of `token`, compared scalar by scalar.
    func id(of token: String) -> Int? {
        guard let node = walk(from: 0, token.unicodeScalars.lazy.map(\.value)) else { return nil }
        let id = terminal[Int(node)]
        return id >= 0 ? Int(id) : nil
    }

    /// The node reached from `node` by following `scalars`, or `nil`.
    func walk<S: Sequence>(from node: Int32, _ scalars: S) -> Int32? where S.Element == UInt32 {
        var node = node
        for scalar in scalars {
            let next = child(of: node, scalar)
            if next < 0 { return nil }
            node = next
        }
        return node
    }

    /// The child of `node` along `scalar`, or -1.
    func child(of node: Int32, _ scalar: UInt32) -> Int32 {
        withTrie { $0.child(of: node, scalar) }
    }

    /// Calls `body` with a pointer view of the trie, for tight loops.
    func withTrie<R>(_ body: (Trie) -> R) -> R {
        childStart.withUnsafeBufferPointer { childStart in
            edgeScalars.withUnsafeBufferPointer { edgeScalars in
                edgeTargets.withUnsafeBufferPointer { edgeTargets in
                    terminal.withUnsafeBufferPointer { terminal in
                        body(Trie(childStart: childStart, edgeScalars: edgeScalars, edgeTargets: edgeTargets, terminal: terminal))
                    }
                }
            }
        }
    }

    /// The trie's arrays as buffer pointers; valid only inside ``withTrie(_:)``.
    struct Trie {
        let childStart: UnsafeBufferPointer<Int32>
        let edgeScalars: UnsafeBufferPointer<UInt32>
        let edgeTargets: UnsafeBufferPointer<Int32>
        let terminal: UnsafeBufferPointer<Int32>

        /// The child of `node` along `scalar`, or -1 (binary search over the sorted edges).
        @inline(__always)
        func child(of node: Int32, _ scalar: UInt32) -> Int32 {
            var low = Int(childStart[Int(node)])
            var high = Int(childStart[Int(node) + 1])
            while low < high {
                let middle = (low + high) >> 1
                let value = edgeScalars[middle]
                if value == scalar { return edgeTargets[middle] }
                if value < scalar { low = middle + 1 } else { high = middle }
            }
            return -1
        }

        /// The longest vocabulary entry spelled by `scalars[start ..< k]` for some `k <= end`,
        /// walking on from `node` (the root, or the node after the continuing-subword prefix).
        /// - Returns: the token id and the end of the match, or `nil` when no entry matches.
        @inline(__always)
        func longestMatch(from node: Int32, _ scalars: UnsafeBufferPointer<UInt32>, _ start: Int, _ end: Int) -> (id: Int, end: Int)? {
            var node = node
            var best: (id: Int, end: Int)?
            var index = start
            while index < end {
                node = child(of: node, scalars[index])
                if node < 0 { break }
                index += 1
                let id = terminal[Int(node)]
                if id >= 0 { best = (Int(id), index) }
            }
            return best
        }
    }
}
