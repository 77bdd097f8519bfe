import DRMM
import NumericalCore

/// Small DRMMs whose every rendering path can be enumerated: 2–3 levels, 1–3 channels,
/// inputs up to 6×6, non-overlapping pools, and all three padding modes among them.
enum TinyModels {
    static func architecture(_ rng: RandomSource) -> (input: [Int], layers: [LayerSpec], classes: Int) {
        let classes = 2 + rng.integer(below: 2)
        switch rng.integer(below: 4) {
        case 0:   // same padding, a 2×2 pool over a 4×4 map, then a dense level
            return ([1, 4, 4], [LayerSpec(channels: 1, kernel: 3, padding: .same, pool: 2),
                                LayerSpec(channels: 1 + rng.integer(below: 3), kernel: 2)], classes)
        case 1:   // three levels
            return ([1 + rng.integer(below: 2), 3, 3],
                    [LayerSpec(channels: 1 + rng.integer(below: 3), kernel: 2, pool: 2),
                     LayerSpec(channels: 1 + rng.integer(below: 3), kernel: 1),
                     LayerSpec(channels: 1 + rng.integer(below: 2), kernel: 1)], classes)
        case 2:   // valid padding on a 6×6 two-channel input
            return ([2, 6, 6], [LayerSpec(channels: 1, kernel: 3, pool: 2),
                                LayerSpec(channels: 2, kernel: 2)], classes)
        default:  // full padding
            return ([1, 2, 2], [LayerSpec(channels: 1, kernel: 3, padding: .full, pool: 2),
                                LayerSpec(channels: 1 + rng.integer(below: 2), kernel: 2, padding: .valid)], classes)
        }
    }

    static func model(seed: UInt64, nonnegative: Bool = true) throws -> DeepRenderingMixtureModel {
        let rng = RandomSource(seed: seed)
        let (input, layers, classes) = architecture(rng)
        return try DeepRenderingMixtureModel.random(inputShape: input, layers: layers, classes: classes,
                                                    seed: seed &* 7919, nonnegative: nonnegative)
    }

    static func image(for model: DeepRenderingMixtureModel, seed: UInt64) -> Tensor {
        let rng = RandomSource(seed: seed ^ 0xABCDEF)
        var t = Tensor(shape: model.inputShape)
        for i in t.elements.indices { t.elements[i] = rng.gaussian() }
        return t
    }
}
