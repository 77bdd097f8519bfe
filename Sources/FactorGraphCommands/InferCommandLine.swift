import ArgumentParser

/// A well-formed `infer` command line read directly: the model path and `--name value` pairs
/// with values that parse and settings that are valid.
///
/// ArgumentParser builds its parser by reflection, which costs more than reading and solving a
/// small model; this reads the common case without it. Anything else — help, a misspelled or
/// abbreviated option, `--name=value`, a value that does not parse, an invalid combination, a
/// second positional argument — gives `nil`, and the caller hands the line to ArgumentParser,
/// which answers or reports it. Tests check that both readings agree on every line this one
/// accepts, and that it knows exactly ArgumentParser's option names.
public enum InferCommandLine {
    /// The request `arguments` (the words after `infer`) make, or `nil` when ArgumentParser
    /// should read them.
    public static func request(_ arguments: [String]) -> InferRequest? {
        var model: String?
        var request = InferRequest(model: "")
        var i = 0
        while i < arguments.count {
            let word = arguments[i]
            if !word.hasPrefix("-") {
                guard model == nil else { return nil }
                model = word
                i += 1
                continue
            }
            guard let set = setters[word], i + 1 < arguments.count else { return nil }
            let value = arguments[i + 1]
            guard value == "-" || !value.hasPrefix("-"), set(&request, value) else { return nil }
            i += 2
        }
        guard let model, request.settings.problem == nil else { return nil }
        request.model = model
        return request
    }

    /// The long option names this reader knows (ArgumentParser's, for the tests to compare).
    public static var optionNames: Set<String> { Set(setters.keys) }

    private typealias Setter = @Sendable (inout InferRequest, String) -> Bool

    private static let setters: [String: Setter] = [
        "--evidence": {
            $0.evidence = $1; return true
        },
        "--output": {
            $0.output = $1; return true
        },
        "--json": {
            $0.json = $1; return true
        },
        "--task": { r, v in assign(InferSettings.Task(rawValue: v)) { r.settings.task = $0 } },
        "--algorithm": { r, v in assign(InferSettings.Algorithm(rawValue: v)) { r.settings.algorithm = $0 } },
        "--schedule": { r, v in assign(InferSettings.Updates(rawValue: v)) { r.settings.schedule = $0 } },
        "--domain": { r, v in assign(InferSettings.Domain(rawValue: v)) { r.settings.domain = $0 } },
        "--threads": { r, v in assign(Int(v)) { r.settings.threads = $0 } },
        "--damping": { r, v in assign(Double(v)) { r.settings.damping = $0 } },
        "--tolerance": { r, v in assign(Double(v)) { r.settings.tolerance = $0 } },
        "--max-iterations": { r, v in assign(Int(v)) { r.settings.maxIterations = $0 } },
        "--forest-rounds": { r, v in assign(Int(v)) { r.settings.forestRounds = $0 } },
        "--samples": { r, v in assign(Int(v)) { r.settings.samples = $0 } },
        "--burn-in": { r, v in assign(Int(v)) { r.settings.burnIn = $0 } },
        "--chains": { r, v in assign(Int(v)) { r.settings.chains = $0 } },
        "--seed": { r, v in assign(UInt64(v)) { r.settings.seed = $0 } },
        "--limit": {
            $0.settings.limitAssignments.append($1); return true
        }
    ]

    private static func assign<T>(_ value: T?, _ set: (T) -> Void) -> Bool {
        guard let value else { return false }
        set(value)
        return true
    }
}

extension InferCommandLine {
    /// Runs a tool whose `infer` goes straight to its command: `CommandLine.arguments` starting
    /// with `infer` are read here (``main(_:as:)``), any others by the tool's own parser `Tool`,
    /// since building the parser of every command by reflection costs more than inference on a
    /// small model.
    public static func main<Tool: ParsableCommand>(_ tool: Tool.Type) {
        let arguments = Array(CommandLine.arguments.dropFirst())
        guard arguments.first == "infer" else { return Tool.main(nil) }
        main(Array(arguments.dropFirst()), as: InferAlone<Tool>.self)
    }

    /// Runs `infer` on `arguments`: a well-formed line directly, anything else through the
    /// ArgumentParser command `Full` (help, errors and exit codes as ArgumentParser gives them).
    public static func main<Full: ParsableCommand>(_ arguments: [String], as full: Full.Type) {
        guard let request = request(arguments) else { return Full.main(arguments) }
        do { try request.run() } catch { Full.exit(withError: error) }
    }
}

/// `infer` parsed on its own: the same command, options and help, under the full name
/// (`Tool infer`), without the parser of every other command of `Tool`.
struct InferAlone<Tool: ParsableCommand>: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "\(Tool.configuration.commandName ?? "\(Tool.self)") infer",
            abstract: Infer.configuration.abstract,
            discussion: Infer.configuration.discussion)
    }

    @OptionGroup var infer: Infer

    func run() throws { try infer.run() }
}
