import Foundation
import NumericalCore

/// Hard EM for a DRMM (spec §4.1, Algorithm 1), derivative-free: alternate a hard E-step over
/// the latent variables with exact least-squares M-steps, each solved with LAPACK.
///
/// The complete-data objective (negative log joint, up to the image-independent constant) is
///
/// `J = Σ_n [ ‖I_n − Î_n‖² / 2σ² − ln π_{c_n} − Σ_ℓ Σ_units ln p(a) ] + (ND/2) ln 2πσ² + (ε/2)‖θ‖²`,
///
/// where `Î_n` is image n rendered top-down from its class `c_n` through its switches and
/// translations (the routes), `p(a = ON) = ρ_ℓ` per level, and `ε` is the ridge on the filters
/// and templates. Every step below lowers `J` or leaves it unchanged:
///
/// - **E-step.** The bottom-up max-sum pass proposes routes; each unlabelled image tries every
///   class with them (labelled images keep their label). An image's latents are replaced
///   only if its term of `J` goes down.
/// - **M-step, one block at a time** (the class templates, then `W⁽ᴸ⁾ … W⁽¹⁾`). With the
///   latents and the other blocks fixed, `Î` is *linear* in the block, `Î = A θ_B`, so the block
///   minimiser is the ridge least-squares solution `(AᵀA + εσ² 1) θ_B = Aᵀ I`, solved by
///   Cholesky (LAPACK `dpotrf`/`dpotrs`). For level 1 this is spec §4.1's regression of the
///   image on the rendered templates; for higher levels the target is the image seen through
///   the fixed lower levels, which is what makes each block step exact for `J` (the spec's
///   layer-local variant regresses the bottom-up map instead and has no such guarantee).
/// - **Priors and noise**, in closed form: `π_c ∝ #{c_n = c}`, `ρ_ℓ` = the fraction of ON
///   switches, `σ² = (1/ND) Σ_n ‖I_n − Î_n‖²`.
///
/// The columns of `A` are obtained by rendering with unit parameters, so the cost grows with
/// the block size times the data: this is the exact algorithm for small models, not a
/// replacement for EG on MNIST-sized networks.
///
/// **Over several ranks** (a ``Communicator``), each rank holds its own images; the E-step is
/// per image and stays local, and everything the M-step and `J` sum over images — the normal
/// equations of every block, the class counts, the ON switches, the residual, the image terms
/// of `J` — is summed over the ranks; rank 0 solves each block and broadcasts the solution.
/// The result is the one-process run on all the images, up to the order of the sums.
public final class HardEM {
    public private(set) var network: RenderingNetwork<Double>
    public private(set) var noiseVariance: Double
    public private(set) var classPrior: [Double]
    public private(set) var switchPrior: [Double]
    /// `ε`, the ridge on the least-squares M-steps.
    public let ridge: Double

    private let count: Int
    /// `N`, the images of all ranks.
    private let totalCount: Int
    private let communicator: any Communicator
    private let imageSize: Int
    /// The images in channel-major `[C, N, H, W]` order (the layout of the rendering kernels).
    private let target: [Double]
    private let images: [Double]
    private let labels: [Int]
    private var classes: [Int] = []
    private var routes: [[Int32]] = []
    private let pass: BatchPass<Double>

    /// Hard EM from `network` on a batch of images.
    ///
    /// - Parameters:
    ///   - network: The starting parameters (a network without batch normalisation).
    ///   - images: `N` images `[N, C, H, W]`; `labels[n] < 0` marks an unlabelled image.
    ///   - labels: The label of every image, or a negative number for an unlabelled one.
    ///   - noiseVariance: The starting pixel noise variance σ².
    ///   - ridge: `ε`, the ridge on the least-squares M-steps.
    ///   - communicator: The ranks of the job; each passes its own images, and all start from
    ///     rank 0's `network`.
    public init(
        network: RenderingNetwork<Double>, images: [Double], labels: [Int], noiseVariance: Double = 1,
        ridge: Double = 1e-6, communicator: any Communicator = SingleProcess()
    ) throws {
        target = try RenderingLatents.channelMajorImages(network, images: images, labels: labels)
        guard noiseVariance > 0, noiseVariance.isFinite else {
            throw LearningError.invalidOption("σ² must be positive, got \(noiseVariance)")
        }
        guard ridge > 0, ridge.isFinite else {
            throw LearningError.invalidOption("the ridge ε must be positive, got \(ridge)")
        }
        try network.validate()
        var network = network
        if communicator.size > 1 {
            try communicator.requireAgreement(
                on: "\(network.architecture) σ² \(noiseVariance) ε \(ridge)", what: "the model and its options")
            try communicator.broadcast(&network.parameters, from: 0)
        }
        self.communicator = communicator
        totalCount = Int(try communicator.sum(Double(labels.count)))
        self.network = network
        self.noiseVariance = noiseVariance
        self.ridge = ridge
        self.images = images
        self.labels = labels
        count = labels.count
        imageSize = network.architecture.inputShape.reduce(1, *)
        classPrior = [Double](repeating: 1 / Double(network.architecture.classes), count: network.architecture.classes)
        switchPrior = network.geometry.map { _ in 0.5 }
        pass = BatchPass(network: network)
        (classes, routes) = propose()
        for i in 0..<count where labels[i] < 0 { classes[i] = bestClass(for: i, routes: routes) }
    }

    // MARK: Rendering with fixed latents

    /// `Î` (channel-major) for the given parameters, classes and routes.
    func render(_ p: [Double], classes cls: [Int], routes r: [[Int32]]) -> [Double] {
        RenderingLatents(classes: cls, routes: r, network: network).render(network, p)
    }

    /// Per image: `‖I − Î‖²`.
    private func residuals(_ rendered: [Double]) -> [Double] {
        let c0 = network.architecture.inputShape[0], hw = imageSize / c0
        var r = [Double](repeating: 0, count: count)
        for c in 0..<c0 {
            for i in 0..<count {
                for q in 0..<hw {
                    let j = (c * count + i) * hw + q
                    r[i] += (target[j] - rendered[j]) * (target[j] - rendered[j])
                }
            }
        }
        return r
    }

    /// Per image: `−Σ ln p(a)` over its switches.
    private func switchCost(_ r: [[Int32]], image i: Int) -> Double {
        var s = 0.0
        for (l, g) in network.geometry.enumerated() {
            let per = g.pooled[1] * g.pooled[2]
            var on = 0
            for c in 0..<g.pooled[0] { for q in 0..<per where r[l][(c * count + i) * per + q] >= 0 { on += 1 } }
            let off = g.pooled[0] * per - on
            if on > 0 { s -= Double(on) * Foundation.log(switchPrior[l]) }
            if off > 0 { s -= Double(off) * Foundation.log(1 - switchPrior[l]) }
        }
        return s
    }

    private func imageTerms(classes cls: [Int], routes r: [[Int32]]) -> [Double] {
        let res = residuals(render(network.parameters, classes: cls, routes: r))
        return (0..<count).map { i in
            res[i] / (2 * noiseVariance) - Foundation.log(classPrior[cls[i]]) + switchCost(r, image: i)
        }
    }

    private var ridgeTerm: Double {
        var s = 0.0
        for range in network.layout.filters + [network.layout.classTemplates] {
            for j in range { s += network.parameters[j] * network.parameters[j] }
        }
        return ridge / 2 * s
    }

    /// The complete-data objective `J` at the current latents and parameters (over the images
    /// of every rank).
    public func objective() throws -> Double {
        try communicator.sum(imageTerms(classes: classes, routes: routes).reduce(0, +))
            + Double(totalCount * imageSize) / 2 * Foundation.log(2 * Double.pi * noiseVariance) + ridgeTerm
    }

    /// The current routes (switches and translations), channel-major per level.
    var currentRoutes: [[Int32]] { routes }

    /// The current hard assignment of classes.
    public var assignedClasses: [Int] { classes }

    // MARK: E-step

    private func propose() -> ([Int], [[Int32]]) {
        var grad: UnsafeMutablePointer<Double>? = nil
        _ = network.parameters.withUnsafeBufferPointer { p in
            images.withUnsafeBufferPointer { x in
                pass.run(
                    parameters: p.baseAddress!, images: x.baseAddress!, labels: labels[...], count: count,
                    objective: Objective(crossEntropy: 0), labeledTotal: max(1, labels.filter { $0 >= 0 }.count),
                    total: count, gradient: grad)
            }
        }
        grad = nil
        return (pass.renderedClasses, pass.routes)
    }

    private func bestClass(for i: Int, routes r: [[Int32]]) -> Int {
        var best = classes.isEmpty ? 0 : classes[i], bestCost = Double.infinity
        for c in 0..<network.architecture.classes where classPrior[c] > 0 {
            var cls = classes.isEmpty ? [Int](repeating: 0, count: count) : classes
            cls[i] = c
            let t = imageTerms(classes: cls, routes: r)[i]
            if t < bestCost { bestCost = t; best = c }
        }
        return best
    }

    /// The hard E-step; returns `J` afterwards.
    @discardableResult
    public func eStep() throws -> Double {
        let (_, proposedRoutes) = propose()
        var proposedClasses = classes
        for i in 0..<count {
            proposedClasses[i] = labels[i] >= 0 ? labels[i] : bestClass(for: i, routes: proposedRoutes)
        }
        let now = imageTerms(classes: classes, routes: routes)
        let then = imageTerms(classes: proposedClasses, routes: proposedRoutes)
        for i in 0..<count where then[i] < now[i] {
            classes[i] = proposedClasses[i]
            for (l, g) in network.geometry.enumerated() {
                let per = g.pooled[1] * g.pooled[2]
                for c in 0..<g.pooled[0] {
                    for q in 0..<per {
                        routes[l][(c * count + i) * per + q] = proposedRoutes[l][(c * count + i) * per + q]
                    }
                }
            }
        }
        return try objective()
    }

    // MARK: M-step

    /// Exact ridge least squares for one parameter block (others fixed).
    private func solveBlock(_ block: Range<Int>) throws {
        let latents = RenderingLatents(classes: classes, routes: routes, network: network)
        let solution = try latents.solveBlock(
            network, block, target: target, ridge: ridge * noiseVariance, communicator: communicator)
        for (k, j) in block.enumerated() { network.parameters[j] = solution[k] }
    }

    /// The M-step, one block at a time; returns `J` after each block and after the closed-form
    /// prior and noise updates.
    @discardableResult
    public func mStep() throws -> [Double] {
        var trace: [Double] = []
        for block in [network.layout.classTemplates] + network.layout.filters.reversed() {
            try solveBlock(block)
            trace.append(try objective())
        }
        // Class counts, ON switches per level and the residual, summed over the ranks at once.
        let k = network.architecture.classes, levels = network.geometry.count
        var sums = [Double](repeating: 0, count: k + levels + 1)
        for c in classes { sums[c] += 1 }
        for l in 0..<levels { sums[k + l] = Double(routes[l].filter { $0 >= 0 }.count) }
        sums[k + levels] = residuals(render(network.parameters, classes: classes, routes: routes)).reduce(0, +)
        try communicator.sum(&sums)
        let n = Double(totalCount)
        classPrior = sums[0..<k].map { $0 / n }
        switchPrior = network.geometry.enumerated().map { l, g in sums[k + l] / (n * Double(g.pooled.reduce(1, *))) }
        noiseVariance = max(sums[k + levels] / (n * Double(imageSize)), 1e-12)
        trace.append(try objective())
        return trace
    }

    /// One EM iteration: the E-step then the M-step; returns `J` after every step.
    @discardableResult
    public func iterate() throws -> [Double] {
        [try eStep()] + (try mStep())
    }
}
