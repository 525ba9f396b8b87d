import Foundation
import HTTPTypes
import Hummingbird
import ViTLens

/// Turns every error into a JSON answer `{"error": {"message": "one line"}}` with its status (400 for
/// bad input found by the library, 404, 409, 413, 403, 500) and puts the security headers on every
/// response, errors included.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        do {
            response = try await next(request, context)
        } catch {
            response = Self.response(for: error, request: request, context: context)
        }
        for (name, value) in Self.securityHeaders { response.headers[name] = value }
        return response
    }

    static var securityHeaders: [(HTTPField.Name, String)] { SecurityHeaders.all }
}

/// Headers on every answer: the page may load only its own files and talk only to its own server.
enum SecurityHeaders {
    static let all: [(HTTPField.Name, String)] = [
        (.contentSecurityPolicy, "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
            + "script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"),
        (HTTPField.Name("X-Content-Type-Options")!, "nosniff"),
        (HTTPField.Name("Referrer-Policy")!, "no-referrer"),
        (HTTPField.Name("X-Frame-Options")!, "DENY"),
        (.cacheControl, "no-store"),
    ]
}

extension ErrorMiddleware {
    static func response(for error: any Error, request: Request, context: Context) -> Response {
        let (status, message): (HTTPResponse.Status, String)
        switch error {
        case let e as HTTPError:
            (status, message) = (e.status, e.body ?? e.status.reasonPhrase)
        case let e as any HTTPResponseError:
            (status, message) = (e.status, e.status == .contentTooLarge ? "the request body is too large" : e.status.reasonPhrase)
        case let e as ExplorerError:
            switch e {
            case .badRequest: status = .badRequest
            case .notFound: status = .notFound
            case .evicted: status = .conflict
            }
            message = e.description
        case let e as any CustomStringConvertible:
            // The library's errors (ImageError, InputError, AnalysisError, MemoryLimitError, ...) name the problem.
            (status, message) = (.badRequest, e.description)
        default:
            (status, message) = (.internalServerError, "internal error: \(error)")
        }
        let line = message.split(whereSeparator: \.isNewline).joined(separator: " ")
        return JSONBody.response(ErrorBody(error: .init(message: line)), status: status)
    }
}

struct ErrorBody: Encodable {
    struct Message: Encodable { var message: String }
    var error: Message
}

/// JSON responses.
enum JSONBody {
    static func response<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
        return raw(data, status: status)
    }

    static func raw(_ data: Data, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
