import ArgumentParser
import ViTLens

/// Which query row to read: CLS (default), a pixel position, a patch, or a token index.
struct QueryOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Query the patch under pixel x,y of the model input (after resize/crop).", valueName: "x,y"))
    var query: String?

    @Option(help: ArgumentHelp("Query the patch at grid row i, column j (zero-based).", valueName: "i,j"))
    var queryPatch: String?

    @Option(help: ArgumentHelp("Query sequence index k (text tokens; prefix tokens of images).", valueName: "k"))
    var queryToken: Int?

    func validate() throws {
        let given = [query != nil, queryPatch != nil, queryToken != nil].filter { $0 }.count
        if given > 1 { throw ValidationError("give at most one of --query, --query-patch, --query-token") }
        if let q = query, Self.pair(q) == nil { throw ValidationError("--query must be x,y in pixels, got '\(q)'") }
        if let q = queryPatch, Self.pair(q) == nil { throw ValidationError("--query-patch must be i,j, got '\(q)'") }
        if let k = queryToken, k < 0 { throw ValidationError("--query-token must be 0 or more") }
    }

    static func pair(_ s: String) -> (Int, Int)? {
        let p = s.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard p.count == 2, let a = p[0], let b = p[1], a >= 0, b >= 0 else { return nil }
        return (a, b)
    }

    /// The query as the library names it.
    var spec: QuerySpec {
        if let q = query, let (x, y) = Self.pair(q) { return .pixel(x: x, y: y) }
        if let q = queryPatch, let (i, j) = Self.pair(q) { return .patch(row: i, column: j) }
        if let k = queryToken { return .token(k) }
        return .automatic
    }
}
