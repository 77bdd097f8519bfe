import ArgumentParser
import FactorGraphCommands
import DRMMLearning
import Datasets
import FactorGraph
import Foundation

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a trained network as a PyTorch state dict (safetensors, or NumPy .npz).",
        discussion: """
            The tensor names are those of the nn.Sequential that Examples/PyTorch/drmm_torch.py builds from the \
            architecture (carried in the file's metadata): model.load_state_dict(safetensors.torch.load_file(F)).
            """)
    @Option(help: "The checkpoint written by drmm train.") var checkpoint: String
    @Option(help: "Output file: .safetensors, or .npz for NumPy.") var out: String
    @OptionGroup var limitOptions: LimitOptions

    func run() throws {
        let network = try Checkpoint.read(from: checkpoint, limits: try limitOptions.limits()).network()
        let file = try PyTorchStateDict.export(network)
        if out.hasSuffix(".npz") {
            try NumPyArchive.write(file.tensors, to: out)
        } else {
            try writeAtomically(bytes: SafeTensors.bytes(file), to: out)
        }
        print("wrote \(out): \(file.tensors.count) tensors of \(network.architecture.name)")
    }
}

struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Turn a PyTorch state dict (safetensors) into a checkpoint: a DRMM to render, verify, evaluate.")
    @Argument(help: "The .safetensors file (the nn.Sequential of Examples/PyTorch/drmm_torch.py).") var file: String
    @Option(help: "Architecture JSON file (default: the one in the file's metadata).") var architecture: String?
    @Option(help: "Write the checkpoint here.") var out: String
    @OptionGroup var limitOptions: LimitOptions

    func run() throws {
        let limits = try limitOptions.limits()
        let arch = try architecture.map { try Architecture.read(path: $0, limits: limits) }
        let network = try PyTorchStateDict.importNetwork(
            try SafeTensors.read(path: file, limits: limits), architecture: arch, source: file)
        try Checkpoint(network: network).write(to: out)
        print("wrote \(out): \(network.architecture.name), \(network.parameters.count) parameters")
    }
}
