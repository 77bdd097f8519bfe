import ArgumentParser
import FactorGraph

extension InferSettings.Task: ExpressibleByArgument {}
extension InferSettings.Algorithm: ExpressibleByArgument {}
extension InferSettings.Updates: ExpressibleByArgument {}
extension InferSettings.Domain: ExpressibleByArgument {}

/// The ``InferSettings`` as ArgumentParser options: what `infer` and `batch infer` share.
public struct InferOptions: ParsableArguments {
    public typealias Task = InferSettings.Task
    public typealias Algorithm = InferSettings.Algorithm

    private static let standard = InferSettings()

    @Option(help: "PR, MAR or MAP.")
    public var task: Task = standard.task

    @Option(
        help: """
            exact (variable elimination), jtree (junction tree), bp (belief propagation), mplp (MAP with an upper \
            bound), gibbs (MAR by sampling) or bruteforce.
            """)
    public var algorithm: Algorithm = standard.algorithm

    @Option(help: "BP schedule: automatic, tree, parallel, sequential or random.")
    var schedule: InferSettings.Updates = standard.schedule

    @Option(
        help: """
            BP number domain: automatic (plain numbers with per-message rescaling, repeated in the log domain \
            when a belief underflows to zero) or log.
            """)
    var domain: InferSettings.Domain = standard.domain

    @Option(help: "BP: threads of the parallel schedule (same answer as one thread).")
    var threads: Int = standard.threads

    @Option(help: "BP damping in [0, 1).")
    var damping: Double = standard.damping

    @Option(help: "BP and MPLP convergence tolerance.")
    var tolerance: Double = standard.tolerance

    @Option(help: "BP and MPLP iteration limit.")
    var maxIterations: Int = standard.maxIterations

    @Option(help: "MPLP: exact moves of random induced forests that improve the decoded assignment at the end.")
    var forestRounds: Int = standard.forestRounds

    @Option(help: "Gibbs: sweeps counted.")
    var samples: Int = standard.samples

    @Option(help: "Gibbs: sweeps discarded first.")
    var burnIn: Int = standard.burnIn

    @Option(help: "Gibbs: independent chains sharing the counted sweeps (their disagreement is reported).")
    var chains: Int = standard.chains

    @Option(help: "Gibbs: seed of the chains; BP random schedule and MPLP forest moves: their seed.")
    var seed: UInt64 = standard.seed

    @OptionGroup public var limitOptions: LimitOptions

    public init() {}

    /// The parsed values.
    public var settings: InferSettings {
        var s = InferSettings()
        s.task = task
        s.algorithm = algorithm
        s.schedule = schedule
        s.domain = domain
        s.threads = threads
        s.damping = damping
        s.tolerance = tolerance
        s.maxIterations = maxIterations
        s.forestRounds = forestRounds
        s.samples = samples
        s.burnIn = burnIn
        s.chains = chains
        s.seed = seed
        s.limitAssignments = limitOptions.assignments
        return s
    }

    public func validate() throws {
        if let problem = settings.problem { throw ValidationError(problem) }
    }

    /// The task's answer on `graph` (see ``InferSettings/answer(_:_:model:verbose:)``).
    public func answer(_ graph: FactorGraph, _ ev: Evidence, model: String, verbose: Bool = true) throws
        -> InferSettings.Outcome
    {
        try settings.answer(graph, ev, model: model, verbose: verbose)
    }
}
