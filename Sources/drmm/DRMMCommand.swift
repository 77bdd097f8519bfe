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
    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        if arguments.first == "infer" {
            InferCommandLine.main(Array(arguments.dropFirst()), otherwise: InferAlone.self)
        } else {
            main(nil)
        }
    }
}

/// `drmm infer` parsed on its own (see ``DRMMCommand/main()``): the same command, options and
/// help, under its full name.
struct InferAlone: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drmm infer", abstract: Infer.configuration.abstract, discussion: Infer.configuration.discussion)

    @OptionGroup var infer: Infer

    func run() throws { try infer.run() }
}
