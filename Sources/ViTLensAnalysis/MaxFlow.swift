/// A directed flow network with double capacities and Dinic's max-flow algorithm.
///
/// Edges are stored in pairs (forward at an even index, its residual twin at the next odd index).
/// Residual capacities at or below `epsilon` count as saturated, which keeps float round-off from
/// creating endless tiny augmenting paths.
struct FlowNetwork {
    private(set) var nodeCount: Int
    private var head: [Int]
    private var next: [Int] = []
    private var to: [Int] = []
    private var capacity: [Double] = []
    private var residual: [Double] = []
    private var level: [Int]
    private var cursor: [Int]
    let epsilon = 1e-12

    init(nodes: Int) {
        nodeCount = nodes
        head = [Int](repeating: -1, count: nodes)
        level = [Int](repeating: -1, count: nodes)
        cursor = [Int](repeating: -1, count: nodes)
    }

    /// Adds the edge `from → to` with capacity `c` (and its zero-capacity residual twin).
    mutating func addEdge(from u: Int, to v: Int, capacity c: Double) {
        to.append(v); capacity.append(c); next.append(head[u]); head[u] = to.count - 1
        to.append(u); capacity.append(0); next.append(head[v]); head[v] = to.count - 1
    }

    /// The maximum flow value from `source` to `sink`, starting from zero flow.
    mutating func maxFlow(from source: Int, to sink: Int) -> Double {
        residual = capacity
        var total = 0.0
        while bfs(source, sink) {
            cursor = head
            while true {
                let f = dfs(source, sink, .infinity)
                if f <= epsilon { break }
                total += f
            }
        }
        return total
    }

    private mutating func bfs(_ s: Int, _ t: Int) -> Bool {
        for i in 0 ..< nodeCount { level[i] = -1 }
        var queue = [s]
        queue.reserveCapacity(nodeCount)
        level[s] = 0
        var qi = 0
        while qi < queue.count {
            let u = queue[qi]
            qi += 1
            var e = head[u]
            while e >= 0 {
                let v = to[e]
                if level[v] < 0 && residual[e] > epsilon {
                    level[v] = level[u] + 1
                    queue.append(v)
                }
                e = next[e]
            }
        }
        return level[t] >= 0
    }

    /// Pushes one blocking-flow path from `u` (iterative path search with per-node cursors).
    private mutating func dfs(_ s: Int, _ t: Int, _ limit: Double) -> Double {
        var path: [Int] = []  // edge indices from s
        var u = s
        while true {
            if u == t {
                var f = limit
                for e in path where residual[e] < f { f = residual[e] }
                for e in path {
                    residual[e] -= f
                    residual[e ^ 1] += f
                }
                return f
            }
            var advanced = false
            while cursor[u] >= 0 {
                let e = cursor[u]
                let v = to[e]
                if residual[e] > epsilon && level[v] == level[u] + 1 {
                    path.append(e)
                    u = v
                    advanced = true
                    break
                }
                cursor[u] = next[e]
            }
            if !advanced {
                // Dead end: retreat and skip the edge that led here.
                guard let e = path.popLast() else { return 0 }
                level[u] = -1
                u = to[e ^ 1]
                cursor[u] = next[e]
            }
        }
    }
}
