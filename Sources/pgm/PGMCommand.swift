import ArgumentParser
import FactorGraphCommands

/// `pgm`: factor graphs and Bayesian networks from the command line, in a process that loads
/// only what inference needs (FactorGraph and OpenBLAS; no DRMM, image or archive libraries).
@main
struct PGMCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pgm",
        abstract: "Inference, sampling and parameter learning on UAI, libDAI, BIF and XMLBIF models.",
        discussion: "The same commands as drmm infer, drmm sample and drmm learn.",
        version: "0.9.0",
        subcommands: [Infer.self, Sample.self, Learn.self])

    /// `pgm infer …` goes straight to its command: a well-formed line is read directly
    /// (``InferCommandLine``), anything else by ArgumentParser under the command's full name.
    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        if arguments.first == "infer" {
            InferCommandLine.main(Array(arguments.dropFirst()), otherwise: InferAlone.self)
        } else {
            main(nil)
        }
    }
}

/// `pgm infer` parsed on its own: the same command, options and help, under its full name,
/// without building the parser of every command first.
struct InferAlone: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pgm infer", abstract: Infer.configuration.abstract, discussion: Infer.configuration.discussion)

    @OptionGroup var infer: Infer

    func run() throws { try infer.run() }
}
