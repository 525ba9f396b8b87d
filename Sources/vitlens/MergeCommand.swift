import ArgumentParser
import Foundation
import ViTLens

/// `vitlens merge`: combines the output folders of every shard of a `vitlens stats --shard` run.
struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Merge the --out folders of all shards of a vitlens stats --shard I/N run into the outputs of one run.",
        discussion: """
        Reads stats_state.json from each DIR (counts, means and second moments per statistic, combined with \
        Chan et al.'s parallel formulas; histogram and outlier counts added) and writes the same files as \
        vitlens stats over all inputs, in any order of the folders. Refused with one line naming the folder: \
        a folder without stats_state.json, a shard missing, given twice or unfinished, shards of different \
        models, sizes, thresholds, input lists or ViTLens versions.
        """)

    @Argument(help: ArgumentHelp("The shard folders (the --out of each vitlens stats --shard I/N).", valueName: "dir"))
    var folders: [String] = []
    @OptionGroup var output: OutputOptions

    func validate() throws {
        if folders.isEmpty { throw ValidationError("give the shard folders to merge") }
    }

    func run() throws {
        let folder = try output.open("merge", inputs: folders)
        let state = try MergeJob().run(folders: folders)
        try output.finish(try StatsReport.product(state), into: folder)
        if !state.failures.isEmpty && !output.quiet {
            FileHandle.standardError.write(Data("\(state.failures.count) of \(state.done.count) inputs failed in the shards (failures.csv)\n".utf8))
        }
    }
}
