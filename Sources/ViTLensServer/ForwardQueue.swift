import Dispatch

/// Runs forward passes one at a time on their own thread, off the server's event loops and Swift's
/// cooperative pool (a pass takes seconds; the BLAS thread setting is process-wide, so two passes
/// at once would also disturb each other).
final class ForwardQueue: Sendable {
    private let queue = DispatchQueue(label: "vitlens.forward", qos: .userInitiated)

    func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try body() }) }
        }
    }
}
