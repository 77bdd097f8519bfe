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
    static func main() { InferCommandLine.main(PGMCommand.self) }
}
