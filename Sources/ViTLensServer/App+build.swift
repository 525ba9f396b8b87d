import Foundation
import Hummingbird
import Logging
import ViTLens

/// The router with every route and the door in front of them (tests drive it in-process).
public func buildRouter(_ explorer: Explorer, cookieName: String) -> Router<ExplorerContext> {
    let router = Router(context: ExplorerContext.self)
    router.middlewares.add(ErrorMiddleware())
    router.middlewares.add(AccessMiddleware(allowedHosts: explorer.configuration.allowedHosts, token: explorer.configuration.token,
                                            cookieName: cookieName))
    PageRoutes.add(to: router)
    InputRoutes.add(to: router, explorer: explorer)
    return router
}

/// The `vitlens serve` application: binds `configuration.host:port` and calls `onRunning` with the
/// port actually bound (useful with port 0).
public func buildApplication(_ explorer: Explorer, onRunning: @escaping @Sendable (Int) async -> Void = { _ in })
    -> some ApplicationProtocol {
    let config = explorer.configuration
    let router = buildRouter(explorer, cookieName: "vitlens_" + String(ServerConfiguration.randomToken(bytes: 4)))
    var logger = Logger(label: "vitlens.serve")
    logger.logLevel = .warning
    return Application(
        router: router,
        configuration: .init(address: .hostname(config.host, port: config.port), serverName: nil),
        onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? config.port) },
        logger: logger)
}
