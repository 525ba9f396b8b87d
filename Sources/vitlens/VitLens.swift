import ArgumentParser
import ViTLens

@main
struct VitLens: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vitlens",
        abstract: "See and measure what a Vision Transformer attends to.",
        version: "0.1.0",
        subcommands: [ImportONNXCommand.self, BenchCommand.self]
    )
}
