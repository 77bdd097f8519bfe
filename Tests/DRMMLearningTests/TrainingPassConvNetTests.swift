import DRMM
import NumericalCore
import Testing
@testable import DRMMLearning

/// The training pass and the convnet: two uses of the level operators on the same weights.
@Suite struct TrainingPassConvNetTests {
    /// The training pass's class scores equal the DRMM module's convnet (an independent
    /// implementation of the same bottom-up max-sum) on the same weights.
    @Test(arguments: [Architecture.Top.dense, .meanPool])
    func scoresEqualTheConvNetForwardPass(top: Architecture.Top) throws {
        let a = Support.toy(top: top)
        let net = try Support.randomNetwork(a, seed: 11).converted(to: Float.self)
        var cn = try ConvNet(
            inputShape: a.inputShape, layers: a.layers, classes: a.classes, meanPoolTop: top == .meanPool, seed: 1)
        for l in cn.layers.indices {
            cn.layers[l].filters = Array(net.parameters[net.layout.filters[l]])
            cn.layers[l].bias = Array(net.parameters[net.layout.biases[l]])
        }
        let w = Array(net.parameters[net.layout.classTemplates]), b = Array(net.parameters[net.layout.classBias])
        cn.classifier = top == .meanPool ? .meanPoolDense(weights: w, bias: b) : .dense(weights: w, bias: b)
        let n = 5
        let images = Support.randomImages(n, size: 64, seed: 12).map(Float.init)
        let reference = try cn.forward(images, count: n)
        let ours = try Evaluation.classify(
            net, ImageSet(shape: a.inputShape, pixels: images, labels: [Int](repeating: 0, count: n)), workers: 2)
        let argmax = (0..<n).map { i in
            (0..<a.classes).max { reference.scores[i * a.classes + $0] < reference.scores[i * a.classes + $1] }!
        }
        #expect(ours.predictions == argmax)
    }
}
