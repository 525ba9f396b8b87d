import Hummingbird
import ViTLens
import ViTLensWeb

/// `/`, `/static/NAME` (the embedded page; anything else under /static is 404, traversal included)
/// and `/api/colormaps`.
enum PageRoutes {
    static func add(to router: Router<ExplorerContext>) {
        router.get("/") { _, _ in try asset("index.html") }
        router.get("/static/:name") { _, context in try asset(context.parameters.get("name") ?? "") }
        router.get("/api/colormaps") { _, _ in JSONBody.response(colormaps) }
    }

    static func asset(_ name: String) throws -> Response {
        guard let a = WebAssets.asset(named: name) else {
            throw ExplorerError.notFound("no file '\(QueryParameters.clip(name))'")
        }
        return Response(status: .ok, headers: [.contentType: a.contentType], body: .init(byteBuffer: ByteBuffer(bytes: a.bytes)))
    }

    /// The CLI's colormap tables (the page never carries a second copy).
    struct Colormaps: Encodable {
        var size: Int
        var matplotlib: String
        var colormaps: [String: [UInt8]]
    }

    static let colormaps = Colormaps(size: Colormap.size, matplotlib: Colormap.matplotlibVersion,
                                     colormaps: Dictionary(uniqueKeysWithValues: Colormap.allCases.map { ($0.rawValue, $0.table) }))
}
