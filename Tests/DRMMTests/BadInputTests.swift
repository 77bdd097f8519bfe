import Testing
import NumericalCore
import DRMM

@Suite("DRMM bad input")
struct DRMMBadInputTests {
    @Test("layer specs that do not chain name the layer and the dimension")
    func layers() {
        #expect(
            throws: DRMMError.invalidLayer(
                layer: 2, message: "kernel 5×5 is larger than its padded input 3×3 (height × width)")
        ) {
            try DeepRenderingMixtureModel(
                inputShape: [1, 8, 8],
                layers: [LayerSpec(channels: 2, kernel: 3, pool: 2), LayerSpec(channels: 2, kernel: 5)], classes: 2)
        }
        #expect(throws: DRMMError.self) {  // pool 2 does not tile 5×5
            try DeepRenderingMixtureModel(
                inputShape: [1, 7, 7], layers: [LayerSpec(channels: 2, kernel: 3, pool: 2)], classes: 2)
        }
        #expect(throws: DRMMError.self) {
            try DeepRenderingMixtureModel(
                inputShape: [1, 8, 8], layers: [LayerSpec(channels: 0, kernel: 3)], classes: 2)
        }
        #expect(throws: DRMMError.self) {
            try DeepRenderingMixtureModel(
                inputShape: [1, 8, 8], layers: [LayerSpec(channels: 2, kernel: 2, padding: .same)], classes: 2)
        }
        #expect(throws: DRMMError.self) {
            try DeepRenderingMixtureModel(
                inputShape: [1, 8, 8], layers: [LayerSpec(channels: 2, kernel: 3, switchPrior: 1)], classes: 2)
        }
        #expect(throws: DRMMError.self) { try DeepRenderingMixtureModel(inputShape: [1, 8, 8], layers: [], classes: 2) }
    }

    @Test("sizes whose products overflow or exhaust memory are refused before any tensor is allocated")
    func hostileSizes() {
        let huge: [(String, () throws -> DeepRenderingMixtureModel)] = [
            (
                "2^62 channels",
                {
                    try DeepRenderingMixtureModel(
                        inputShape: [1, 8, 8], layers: [LayerSpec(channels: 1 << 62, kernel: 3)], classes: 2)
                }
            ),
            (
                "2^62 kernel",
                {
                    try DeepRenderingMixtureModel(
                        inputShape: [1, 8, 8], layers: [LayerSpec(channels: 2, kernel: 1 << 62)], classes: 2)
                }
            ),
            (
                "2^31 × 2^31 input",
                {
                    try DeepRenderingMixtureModel(
                        inputShape: [1, 1 << 31, 1 << 31], layers: [LayerSpec(channels: 2, kernel: 3)], classes: 2)
                }
            ),
            (
                "2^20 × 2^20 input, 2^10 channels",
                {
                    try DeepRenderingMixtureModel(
                        inputShape: [1, 1 << 20, 1 << 20], layers: [LayerSpec(channels: 1 << 10, kernel: 1)], classes: 2
                    )
                }
            ),
            (
                "10^9 channels",
                {
                    try DeepRenderingMixtureModel(
                        inputShape: [1, 8, 8], layers: [LayerSpec(channels: 1_000_000_000, kernel: 3)], classes: 2)
                }
            ),
            (
                "2^62 classes",
                {
                    try DeepRenderingMixtureModel(
                        inputShape: [1, 8, 8], layers: [LayerSpec(channels: 2, kernel: 3)], classes: 1 << 62)
                }
            )
        ]
        for (name, make) in huge {
            do { _ = try make(); Issue.record("\(name) was built") } catch let e as DRMMError {
                guard case .tooLarge = e else { Issue.record("\(name): \(e)"); continue }
            } catch { Issue.record("\(name): \(error)") }
        }
    }

    @Test("σ², priors and parameter shapes")
    func parameters() throws {
        #expect(throws: DRMMError.self) {
            try DeepRenderingMixtureModel(
                inputShape: [1, 4, 4], layers: [LayerSpec(channels: 1, kernel: 3)], classes: 2, noiseVariance: 0)
        }
        var m = try DeepRenderingMixtureModel(
            inputShape: [1, 4, 4], layers: [LayerSpec(channels: 1, kernel: 3)], classes: 2)
        m.classPrior = [0.5, 0.6]
        #expect(throws: DRMMError.self) { try m.validate() }
        m.classPrior = [0.5, 0.5]
        m.noiseVariance = -1
        #expect(throws: DRMMError.self) { try m.validate() }
        m.noiseVariance = 1
        m.filters[0] = Tensor(shape: [1, 1, 2, 2])
        #expect(throws: DRMMError.shapeMismatch(what: "layer 1 filters", expected: [1, 1, 3, 3], actual: [1, 1, 2, 2]))
        { try m.validate() }
    }

    @Test("images of the wrong size or with NaN pixels")
    func images() throws {
        let m = try DeepRenderingMixtureModel(
            inputShape: [1, 4, 4], layers: [LayerSpec(channels: 1, kernel: 3)], classes: 2)
        #expect(throws: DRMMError.self) { try m.infer(Tensor(shape: [1, 5, 4])) }
        var nan = Tensor(shape: [1, 4, 4])
        nan.elements[5] = .nan
        #expect(throws: DRMMError.invalidInput("pixel 5 is nan")) { try m.infer(nan) }
        #expect(throws: DRMMError.self) {
            try m.render(
                class: 3, nuisances: Nuisances(translations: [[0, 0, 0, 0]], switches: [[true, true, true, true]]))
        }
        #expect(throws: DRMMError.self) {
            try m.render(class: 0, nuisances: Nuisances(translations: [[0]], switches: [[true]]))
        }
    }
}
