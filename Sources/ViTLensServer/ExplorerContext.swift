import Hummingbird

/// The request context of the explorer's routes.
public struct ExplorerContext: RequestContext {
    public var coreContext: CoreRequestContextStorage

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
    }
}
