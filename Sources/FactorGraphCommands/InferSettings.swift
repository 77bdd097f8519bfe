import FactorGraph
import NumericalCore

/// What `infer` runs: the task, the algorithm and its options, with their defaults in one
/// place. ``InferOptions`` reads them from a command line with ArgumentParser,
/// ``InferCommandLine`` from a well-formed one directly.
public struct InferSettings: Equatable, Sendable {
    /// What is asked of the model.
    public enum Task: String, CaseIterable, Sendable { case PR, MAR, MAP, MPE }
    /// How it is answered.
    public enum Algorithm: String, CaseIterable, Sendable { case exact, jtree, bp, mplp, gibbs, bruteforce }
    /// The belief-propagation schedule.
    public enum Updates: String, CaseIterable, Sendable { case automatic, tree, parallel, sequential, random }
    /// The number domain of belief propagation.
    public enum Domain: String, CaseIterable, Sendable { case automatic, log }

    /// `--task`.
    public var task: Task = .MAR
    /// `--algorithm`.
    public var algorithm: Algorithm = .exact
    /// `--schedule` (BP).
    public var schedule: Updates = .automatic
    /// `--domain` (BP).
    public var domain: Domain = .automatic
    /// `--threads`: threads of BP's parallel schedule.
    public var threads = 1
    /// `--damping` (BP), in [0, 1).
    public var damping = 0.0
    /// `--tolerance` (BP and MPLP).
    public var tolerance = 1e-9
    /// `--max-iterations` (BP and MPLP).
    public var maxIterations = 10_000
    /// `--forest-rounds` (MPLP's final exact moves).
    public var forestRounds = 50
    /// `--samples` (Gibbs sweeps counted).
    public var samples = 10_000
    /// `--burn-in` (Gibbs sweeps discarded).
    public var burnIn = 1000
    /// `--chains` (Gibbs).
    public var chains = 2
    /// `--seed` (Gibbs, BP's random schedule, MPLP's forest moves).
    public var seed: UInt64 = 0
    /// `name=value` assignments to the ``ResourceLimits`` (`--limit`), in order.
    public var limitAssignments: [String] = []

    /// The defaults.
    public init() {}

    /// The standard limits with ``limitAssignments`` applied.
    public func resourceLimits() throws -> ResourceLimits { try .standard(applying: limitAssignments) }

    /// What is wrong with the settings, said in terms of the options, or `nil`.
    public var problem: String? {
        if !(damping >= 0 && damping < 1) { return "--damping must be in [0, 1), got \(damping)" }
        if !(tolerance >= 0 && tolerance.isFinite) {
            return "--tolerance must be a finite number ≥ 0, got \(tolerance)"
        }
        if maxIterations < 1 { return "--max-iterations must be at least 1, got \(maxIterations)" }
        if !(1...1024).contains(threads) { return "--threads must be in 1...1024" }
        if forestRounds < 0 { return "--forest-rounds must be at least 0" }
        if !(chains >= 1 && samples >= chains && burnIn >= 0) {
            return "--samples must be at least --chains (≥ 1), and --burn-in at least 0"
        }
        if algorithm == .mplp && task != .MAP && task != .MPE {
            return "--algorithm mplp answers --task MAP; for \(task.rawValue) use exact, jtree or bp"
        }
        if algorithm == .gibbs && task != .MAR {
            return "--algorithm gibbs answers --task MAR; for \(task.rawValue) use exact, jtree or bp"
        }
        return nil
    }
}

/// A setting the command cannot run with.
public struct InvalidSetting: Error, CustomStringConvertible {
    /// What is wrong, in terms of the options.
    public let message: String
    public var description: String { message }
}
