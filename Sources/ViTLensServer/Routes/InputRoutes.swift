import Foundation
import HTTPTypes
import Hummingbird
import ViTLens

/// `/api/models` and `/api/inputs...`: uploads, descriptions, the canvas image and the array views.
enum InputRoutes {
    static func add(to router: Router<ExplorerContext>, explorer: Explorer) {
        router.get("/api/models") { _, _ in JSONBody.response(["models": explorer.modelInfos]) }
        router.get("/api/inputs") { _, _ in JSONBody.response(["inputs": explorer.store.all().map(\.info)]) }
        router.post("/api/inputs") { request, _ in try await upload(request, explorer) }
        router.get("/api/inputs/:id") { _, context in JSONBody.response(try explorer.input(id(context)).info) }
        router.delete("/api/inputs/:id") { _, context in
            guard explorer.store.remove(try id(context)) else { throw ExplorerError.notFound("no input '\(try id(context))'") }
            return Response(status: .noContent)
        }
        router.get("/api/inputs/:id/image.png") { _, context in
            let e = try explorer.input(id(context))
            guard let png = e.canvasPNG else { throw ExplorerError.badRequest("input \(e.id) is text; it has no image") }
            return Response(status: .ok, headers: [.contentType: "image/png"], body: .init(byteBuffer: ByteBuffer(bytes: png)))
        }
        array(router, "attention", ["layer", "head", "fusion", "query", "keys"]) { try await explorer.attention($0, $1) }
        array(router, "rollout", ["residual", "fusion", "discard", "discard_mode", "first_layer", "last_layer", "query"]) {
            try await explorer.rollout($0, $1)
        }
        array(router, "masks", ["layer", "query", "threshold"]) { try await explorer.masks($0, $1) }
        array(router, "distance", ["renormalize"]) { try explorer.distance($0, $1) }
        array(router, "explain", Explorer.explainParameters) { try await explorer.explain($0, $1) }

        /// Adds `GET /api/inputs/:id/NAME` answering an ``ArrayAnswer`` as JSON or `format=f32`.
        func array(_ router: Router<ExplorerContext>, _ name: String, _ allowed: Set<String>,
                   _ view: @escaping @Sendable (CachedInput, QueryParameters) async throws -> ArrayAnswer) {
            router.get("/api/inputs/:id/\(name)") { request, context in
                let p = try QueryParameters(pairs(request), allowed: allowed.union(["format"]))
                let binary = try p.choice("format", ["json", "f32"], default: "json") == "f32"
                let answer = try await view(try explorer.input(id(context)), p)
                var response: Response
                if binary {
                    response = Response(status: .ok, headers: [.contentType: "application/octet-stream"],
                                        body: .init(byteBuffer: ByteBuffer(bytes: answer.float32Bytes)))
                    response.headers[HTTPField.Name("X-ViTLens-Shape")!] = answer.shape.map(String.init).joined(separator: ",")
                } else {
                    response = JSONBody.raw(Data(answer.json.utf8))
                }
                if answer.recomputed { response.headers[HTTPField.Name("X-ViTLens-Recomputed")!] = "1" }
                return response
            }
        }
    }

    static func id(_ context: ExplorerContext) throws -> String {
        guard let id = context.parameters.get("id") else { throw ExplorerError.notFound("no input id") }
        return id
    }

    static func pairs(_ request: Request) -> [(String, String)] {
        request.uri.queryParameters.map { (String($0.key), String($0.value)) }
    }

    /// `POST /api/inputs`: image bytes, or `{"text": ...}` as JSON.
    static func upload(_ request: Request, _ explorer: Explorer) async throws -> Response {
        let p = try QueryParameters(pairs(request), allowed: ["model", "size", "name"])
        let limit = explorer.configuration.maxUploadBytes
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > limit {
            throw HTTPError(.contentTooLarge, message: "the upload is \(length) bytes, above the limit of \(limit) (--max-upload)")
        }
        var request = request
        let body: ByteBuffer
        do { body = try await request.collectBody(upTo: limit) } catch {
            throw HTTPError(.contentTooLarge, message: "the upload is above the limit of \(limit) bytes (--max-upload)")
        }
        let data = Data(buffer: body)
        guard !data.isEmpty else { throw ExplorerError.badRequest("the request body is empty: send the image's bytes, or {\"text\": ...} as JSON") }
        let entry: CachedInput
        if (request.headers[.contentType] ?? "").lowercased().hasPrefix("application/json") {
            guard p["size"] == nil else { throw ExplorerError.badRequest("size applies to images, not text") }
            guard let text = try? JSONDecoder().decode(TextUpload.self, from: data) else {
                throw ExplorerError.badRequest(#"the JSON body must be {"text": "a sentence", "truncate": false}"#)
            }
            entry = try await explorer.uploadText(text.text, truncate: text.truncate ?? false, model: p["model"])
        } else {
            let name = QueryParameters.clip(p["name"] ?? "upload")
            entry = try await explorer.uploadImage(data, model: p["model"], size: try p.size("size"), name: name)
        }
        var response = JSONBody.response(entry.info, status: .created)
        response.headers[.location] = "/api/inputs/\(entry.id)"
        return response
    }

    struct TextUpload: Decodable {
        var text: String
        var truncate: Bool?
    }
}
