import Foundation
import Hummingbird

/// The door: a `Host` allow-list (DNS rebinding), an `Origin` check, and the access token (from
/// `?token=`, the cookie it sets, or `Authorization: Bearer`), as docs/API.md "Access" lists.
struct AccessMiddleware<Context: RequestContext>: RouterMiddleware {
    let allowedHosts: Set<String>
    let token: String
    /// Unique per server, so two servers on one machine keep their own cookies.
    let cookieName: String

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let host = request.head.authority ?? ""
        guard let name = Self.hostName(host), allowedHosts.contains(name) else {
            throw HTTPError(.forbidden, message: "host '\(QueryParameters.clip(host))' is not allowed (DNS rebinding protection); use the printed URL or --allow-host")
        }
        if let origin = request.headers[.origin] {
            guard let url = URL(string: origin), let h = url.host, url.scheme == "http",
                  allowedHosts.contains(h.lowercased()) || allowedHosts.contains("[\(h.lowercased())]") else {
                throw HTTPError(.forbidden, message: "origin '\(QueryParameters.clip(origin))' is not allowed; this server answers only its own page")
            }
        }
        let fromQuery = request.uri.queryParameters.get("token")
        let fromHeader = request.headers[.authorization].flatMap { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : nil }
        let fromCookie = request.cookies[cookieName]?.value
        let valid = [fromQuery, fromHeader, fromCookie].contains { $0.map { Self.equal($0, token) } ?? false }
        guard valid else {
            throw HTTPError(.forbidden, message: "missing or wrong token: open the URL `vitlens serve` printed (it carries ?token=...)")
        }
        guard let q = fromQuery, Self.equal(q, token) else { return try await next(request, context) }
        let cookie = Cookie(name: cookieName, value: token, path: "/", httpOnly: true, sameSite: .strict)
        if request.method == .get, request.uri.path == "/" {
            // As Jupyter: the token leaves the address bar once the cookie holds it.
            var response = Response(status: .seeOther, headers: [.location: "/"])
            response.setCookie(cookie)
            return response
        }
        var response = try await next(request, context)
        response.setCookie(cookie)
        return response
    }

    /// The name part of a `Host` value (`[::1]:8642` -> `[::1]`, `LocalHost:80` -> `localhost`), or nil.
    static func hostName(_ host: String) -> String? {
        let h = host.lowercased()
        if h.hasPrefix("[") {
            guard let close = h.firstIndex(of: "]") else { return nil }
            let rest = h[h.index(after: close)...]
            guard rest.isEmpty || (rest.first == ":" && rest.dropFirst().allSatisfy(\.isNumber)) else { return nil }
            return String(h[...close])
        }
        let parts = h.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count <= 2, let name = parts.first, !name.isEmpty else { return nil }
        if parts.count == 2, parts[1].isEmpty || !parts[1].allSatisfy(\.isNumber) { return nil }
        return String(name)
    }

    /// Compares in time independent of where the strings differ.
    static func equal(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var diff: UInt8 = 0
        for i in 0 ..< x.count { diff |= x[i] ^ y[i] }
        return diff == 0
    }
}
