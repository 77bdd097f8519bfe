import Foundation

/// First-order optimisers for the G-step, over the flat parameter buffer.
public struct Optimizer: Codable, Equatable, Sendable {
    /// The update rule.
    public enum Method: String, Codable, Sendable, CaseIterable {
        /// SGD with (heavy-ball) momentum: `v ← μ v − η g`, `θ ← θ + v`.
        case sgd
        /// Adam (Kingma & Ba) with bias correction.
        case adam
    }

    /// The learning rate against the epoch.
    public enum Schedule: Codable, Equatable, Sendable {
        case constant
        /// Geometric decay from the initial rate to `final` over the run (the authors' code
        /// decays 1e-3 → 1e-6).
        case geometric(final: Double)
        /// Multiply by `factor` every `every` epochs.
        case step(every: Int, factor: Double)
    }

    /// SGD with momentum or Adam.
    public var method: Method
    /// `η` at the first epoch.
    public var learningRate: Double
    /// How `η` changes with the epoch.
    public var schedule: Schedule
    /// `μ` of SGD's momentum.
    public var momentum: Double
    /// Adam's `β₁`.
    public var beta1 = 0.9
    /// Adam's `β₂`.
    public var beta2 = 0.999
    /// Adam's `ε`.
    public var epsilon = 1e-8
    /// L2 weight decay added to the gradient of the filters and templates.
    public var weightDecay = 0.0

    /// An optimiser (Adam at 1e-3, constant, by default).
    public init(
        method: Method = .adam, learningRate: Double = 1e-3, schedule: Schedule = .constant, momentum: Double = 0.9
    ) {
        self.method = method
        self.learningRate = learningRate
        self.schedule = schedule
        self.momentum = momentum
    }

    /// The rate for `epoch` (0-based) of `epochs`.
    public func rate(epoch: Int, of epochs: Int) -> Double {
        switch schedule {
        case .constant: return learningRate
        case let .geometric(final):
            guard epochs > 1 else { return learningRate }
            return learningRate * pow(final / learningRate, Double(epoch) / Double(epochs - 1))
        case let .step(every, factor):
            return learningRate * pow(factor, Double(epoch / max(1, every)))
        }
    }

    /// Throws unless every setting is finite and in its range.
    public func validate() throws {
        guard learningRate > 0, learningRate.isFinite else {
            throw LearningError.invalidOption("learning rate must be positive, got \(learningRate)")
        }
        guard momentum >= 0, momentum < 1 else {
            throw LearningError.invalidOption("momentum must be in [0, 1), got \(momentum)")
        }
        guard beta1 >= 0, beta1 < 1, beta2 >= 0, beta2 < 1 else {
            throw LearningError.invalidOption("Adam betas must be in [0, 1)")
        }
        if case let .geometric(final) = schedule, !(final > 0) {
            throw LearningError.invalidOption("final learning rate must be positive, got \(final)")
        }
        if case let .step(every, factor) = schedule, every < 1 || !(factor > 0) {
            throw LearningError.invalidOption("step schedule needs every ≥ 1 and factor > 0")
        }
        guard weightDecay >= 0, weightDecay.isFinite else {
            throw LearningError.invalidOption("weight decay must be ≥ 0 and finite, got \(weightDecay)")
        }
    }
}

/// The optimiser's moving state: first and second moments, and the step count.
public struct OptimizerState: Codable, Equatable, Sendable {
    /// Steps taken.
    public var step = 0
    /// First moments (SGD: the velocity).
    public var first: [Float]
    /// Adam's second moments.
    public var second: [Float]

    /// Zero moments for `n` parameters.
    public init(parameterCount n: Int) {
        first = [Float](repeating: 0, count: n)
        second = [Float](repeating: 0, count: n)
    }

    /// One update of `parameters` by `gradient` at learning rate `rate`. `decayed` marks the
    /// parameters that weight decay applies to (disjoint ranges).
    public mutating func apply(
        _ o: Optimizer, rate: Double, parameters: inout [Float], gradient: [Float], decayed: [Range<Int>]
    ) {
        step += 1
        // The parameter buffer as consecutive segments, each with its decay coefficient.
        var segments: [(Range<Int>, Float)] = []
        var next = 0
        if o.weightDecay != 0 {
            for r in decayed.sorted(by: { $0.lowerBound < $1.lowerBound }) where !r.isEmpty {
                if r.lowerBound > next { segments.append((next..<r.lowerBound, 0)) }
                segments.append((r, Float(o.weightDecay)))
                next = r.upperBound
            }
        }
        if next < parameters.count { segments.append((next..<parameters.count, 0)) }
        let lr = Float(rate)
        switch o.method {
        case .sgd:
            let mu = Float(o.momentum)
            for (r, wd) in segments {
                for i in r {
                    first[i] = mu * first[i] - lr * (gradient[i] + wd * parameters[i])
                    parameters[i] += first[i]
                }
            }
        case .adam:
            let (b1, b2, eps) = (Float(o.beta1), Float(o.beta2), Float(o.epsilon))
            let c1 = 1 - pow(o.beta1, Double(step)), c2 = 1 - pow(o.beta2, Double(step))
            let stepSize = Float(rate * c2.squareRoot() / c1)
            let epsHat = eps * Float(c2.squareRoot())
            for (r, wd) in segments {
                for i in r {
                    let g = gradient[i] + wd * parameters[i]
                    first[i] = b1 * first[i] + (1 - b1) * g
                    second[i] = b2 * second[i] + (1 - b2) * g * g
                    parameters[i] -= stepSize * first[i] / (second[i].squareRoot() + epsHat)
                }
            }
        }
    }
}
