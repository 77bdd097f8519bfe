import ArgumentParser
import FactorGraphCommands

@main
struct DRMMCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drmm",
        abstract: "Probabilistic graphical-model inference and the Deep Rendering Mixture Model.",
        version: "0.9.0",
        subcommands: [
            Infer.self, Render.self, Equivalence.self, Train.self, Evaluate.self, Verify.self, Tree.self, Forest.self,
            Layerwise.self, Coupled.self, Export.self, Import.self, Batch.self, EM.self, Sample.self, Learn.self
        ])

    /// `drmm infer …` goes straight to its command: building the parser of the whole command
    /// tree (by reflection, for every command and option) costs more than inference on a
    /// small model. A well-formed line is read directly (``InferCommandLine``), anything else
    /// by ArgumentParser under the command's full name.
    static func main() { InferCommandLine.main(DRMMCommand.self) }
}
