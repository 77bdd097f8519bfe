import ArgumentParser

@main
struct DRMMCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drmm",
        abstract: "Probabilistic graphical-model inference and the Deep Rendering Mixture Model.",
        version: "0.9.0",
        subcommands: [
            Infer.self, Render.self, Equivalence.self, Train.self, Evaluate.self, Verify.self, Tree.self, Forest.self,
            Layerwise.self, Coupled.self, Export.self, Import.self, Batch.self, EM.self, Sample.self, Learn.self
        ])
}
