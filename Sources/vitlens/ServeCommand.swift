import ArgumentParser
import Foundation
import ViTLens
import ViTLensServer

/// `vitlens serve`: the interactive explorer in a browser, on loopback, behind a token.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Explore attention in a browser: hover a patch or token and see what it attends to.",
        discussion: """
        Loads each --model once and serves the explorer page and its HTTP API (docs/API.md) on \
        127.0.0.1. The first line printed is the URL to open, with a random access token \
        (`ViTLens explorer: http://127.0.0.1:PORT/?token=TOKEN`); requests without the token get 403, \
        and only the loopback names (plus --host and --allow-host) are accepted in the Host header. \
        Each upload runs one forward pass; its attention is kept in a cache of --cache-memory bytes \
        (least recently used inputs are dropped; float16 above a quarter of the budget, error at most \
        max(2^-11|a|, 2^-25); above the whole budget only the prefix rows and the last layer are kept and \
        other views run a new forward pass). Stop with Ctrl-C.
        """)

    @Option(name: .shortAndLong, help: ArgumentHelp("A model to offer (repeat for several): a Hugging Face folder, a .safetensors file beside its config.json, or a Hub id.", valueName: "dir|file|id"))
    var model: [String] = []
    @Option(help: "Address to bind. Anything but loopback exposes the explorer to the network (with a warning).")
    var host = "127.0.0.1"
    @Option(help: "Port (0 picks a free one; the printed URL says which).")
    var port = 8642
    @Option(help: ArgumentHelp("Another name accepted in the Host header (repeatable), e.g. a name in /etc/hosts.", valueName: "name"))
    var allowHost: [String] = []
    @Option(help: ArgumentHelp("Largest upload: bytes or 16M, 1G; 413 above (default: 32M).", valueName: "size"), transform: ComputeOptions.parseMemory)
    var maxUpload = 32 << 20
    @Option(help: "Largest image accepted, in pixels (checked from the file header before decoding).")
    var maxPixels = 40_000_000
    @Option(help: ArgumentHelp("Memory for cached attention: bytes or 512M, 2G (default: 2G).", valueName: "size"), transform: ComputeOptions.parseMemory)
    var cacheMemory = 2 << 30
    @Option(help: "Cache precision: auto, float32 or float16.")
    var cachePrecision: CachePrecisionOption = .auto
    @OptionGroup var compute: ComputeOptions

    func validate() throws {
        guard !model.isEmpty else { throw ValidationError("give at least one --model") }
        guard (0 ... 65535).contains(port) else { throw ValidationError("--port must be from 0 to 65535, got \(port)") }
        guard maxUpload > 0, maxPixels > 0, cacheMemory > 0 else { throw ValidationError("--max-upload, --max-pixels and --cache-memory must be positive") }
        guard maxPixels <= Limits.maxImagePixels else { throw ValidationError("--max-pixels must be at most \(Limits.maxImagePixels)") }
    }

    func run() async throws {
        try compute.apply()
        var config = ServerConfiguration()
        (config.host, config.port, config.extraAllowedHosts) = (host, port, allowHost)
        (config.maxUploadBytes, config.maxPixels, config.cacheBytes) = (maxUpload, maxPixels, cacheMemory)
        config.cachePrecision = cachePrecision.value
        if let token = ProcessInfo.processInfo.environment["VITLENS_TOKEN"], !token.isEmpty { config.token = token }
        var served: [ServedModel] = []
        for (i, spec) in model.enumerated() {
            let session = try ModelOptions.load(spec)
            served.append(ServedModel(id: String(i), name: URL(fileURLWithPath: spec).lastPathComponent, session: session))
        }
        if !config.isLoopback {
            FileHandle.standardError.write(Data("warning: --host \(host) exposes the explorer beyond this machine; anyone with the token can use it\n".utf8))
        }
        let explorer = try Explorer(models: served, configuration: config)
        let shownHost = host.contains(":") ? "[\(host)]" : host
        let token = config.token
        let app = buildApplication(explorer) { bound in
            // Written straight to the descriptor: scripts read this line while the server runs.
            FileHandle.standardOutput.write(Data("ViTLens explorer: http://\(shownHost):\(bound)/?token=\(token)\n".utf8))
        }
        try await app.runService()
    }
}

/// `--cache-precision`.
enum CachePrecisionOption: String, ExpressibleByArgument, CaseIterable {
    case auto, float32, float16
    var value: ServerConfiguration.CachePrecision {
        switch self {
        case .auto: return .automatic
        case .float32: return .float32
        case .float16: return .float16
        }
    }
}
