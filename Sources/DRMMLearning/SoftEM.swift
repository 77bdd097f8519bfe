import NumericalCore
import Foundation

/// Soft EM for a deep DRMM with the layer-local mean-field E-step (spec §4.7 (a)):
/// ``SoftInference`` at temperature τ gives the class posterior `q(c)` and the expected masks
/// `q(a = ON)·q(t)`; the M-step is the responsibility-weighted least squares of hard EM with
/// those expectations in place of the hard routes — for each block (the class templates, then
/// `W⁽ᴸ⁾ … W⁽¹⁾`) the ridge least-squares fit of the images by `Î = Σ_c q(c) Λ(q) μ_c` — and
/// `σ² = (1/ND) Σ‖I − Î‖²`.
///
/// As τ → 0 the expectations become the max-sum routes and the argmax class, and this is the
/// M-step of ``HardEM`` (tested). The mean-field objective is a surrogate: each block step
/// minimises it exactly for the current E-step, but, unlike exact EM, the likelihood is not
/// guaranteed to rise.
///
/// Over several ranks (a ``Communicator``), each with its own images, the sums of the M-step
/// and of the objective are summed over the ranks and rank 0 solves each block, as in
/// ``HardEM``.
public final class SoftEM {
    public private(set) var network: RenderingNetwork<Double>
    public private(set) var noiseVariance: Double
    /// The ridge on the least-squares M-steps.
    public let ridge: Double
    /// τ of the E-step.
    public let temperature: Double
    private let images: [Double]
    private let labels: [Int]
    private let target: [Double]
    private var latents: RenderingLatents
    private let communicator: any Communicator
    /// Pixel values of all ranks, `N·D`.
    private let totalPixels: Int

    /// Soft EM from `network` on `images` (`[N, C, H, W]`; `labels[i] < 0` for an unlabelled
    /// image) at temperature τ; throws on bad data or a normalised network. Over several ranks,
    /// each passes its own images and all start from rank 0's `network`.
    public init(
        network: RenderingNetwork<Double>, images: [Double], labels: [Int], temperature: Double,
        noiseVariance: Double = 1, ridge: Double = 1e-6, communicator: any Communicator = SingleProcess()
    ) throws {
        target = try RenderingLatents.channelMajorImages(network, images: images, labels: labels)
        guard temperature > 0, temperature.isFinite else {
            throw LearningError.invalidOption("temperature must be positive, got \(temperature)")
        }
        guard noiseVariance > 0, noiseVariance.isFinite, ridge > 0, ridge.isFinite else {
            throw LearningError.invalidOption("σ² and the ridge must be positive")
        }
        try network.validate()
        var network = network
        if communicator.size > 1 {
            try communicator.requireAgreement(
                on: "\(network.architecture) τ \(temperature) σ² \(noiseVariance) ε \(ridge)",
                what: "the model and its options")
            try communicator.broadcast(&network.parameters, from: 0)
        }
        self.communicator = communicator
        totalPixels = Int(try communicator.sum(Double(target.count)))
        self.network = network
        self.images = images
        self.labels = labels
        self.temperature = temperature
        self.noiseVariance = noiseVariance
        self.ridge = ridge
        latents = RenderingLatents(classWeights: [], masks: [])
        try eStep()
    }

    /// The sum-product E-step at the temperature.
    public func eStep() throws {
        let r = try SoftInference.infer(network, images: images, labels: labels, temperature: temperature)
        let k = network.architecture.classes
        latents = RenderingLatents(
            classWeights: (0..<labels.count).map { i in Array(r.classPosterior[(i * k)..<((i + 1) * k)]) },
            masks: r.masks)
    }

    /// `Σ‖I − Î‖²/2σ² + (ND/2) ln 2πσ² + (ε/2)‖θ‖²` with the current expectations (over the
    /// images of every rank).
    public func surrogateObjective() throws -> Double {
        let sq = try squaredError()
        var norm = 0.0
        for range in network.layout.filters + [network.layout.classTemplates] {
            for j in range { norm += network.parameters[j] * network.parameters[j] }
        }
        return sq / (2 * noiseVariance) + Double(totalPixels) / 2 * log(2 * Double.pi * noiseVariance) + ridge / 2
            * norm
    }

    /// `Σ‖I − Î‖²` over the images of every rank.
    private func squaredError() throws -> Double {
        let rendered = latents.render(network, network.parameters)
        var sq = 0.0
        for j in target.indices { sq += (target[j] - rendered[j]) * (target[j] - rendered[j]) }
        return try communicator.sum(sq)
    }

    /// The M-step, block by block; returns the surrogate objective after each block and after
    /// the σ² update.
    @discardableResult
    public func mStep() throws -> [Double] {
        var trace: [Double] = []
        for block in [network.layout.classTemplates] + network.layout.filters.reversed() {
            let solution = try latents.solveBlock(
                network, block, target: target, ridge: ridge * noiseVariance, communicator: communicator)
            for (k, j) in block.enumerated() { network.parameters[j] = solution[k] }
            trace.append(try surrogateObjective())
        }
        noiseVariance = max(try squaredError() / Double(totalPixels), 1e-12)
        trace.append(try surrogateObjective())
        return trace
    }
}
