import ArgumentParser
import ViTLens

@main
struct ViTLensCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vitlens",
        abstract: "See and measure what a Vision Transformer attends to.",
        version: ViTLensVersion.current,
        subcommands: [DumpCommand.self, HeadsCommand.self, RolloutCommand.self, ExplainCommand.self, FaithfulnessCommand.self, DistanceCommand.self, StatsCommand.self, MergeCommand.self, FlowCommand.self, AnalyzeCommand.self, ReportCommand.self, ImportONNXCommand.self, ConvertCommand.self, BenchCommand.self, ServeCommand.self]
    )
}
