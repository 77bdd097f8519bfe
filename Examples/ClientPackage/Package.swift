// swift-tools-version: 6.1
// A package outside the library that uses only its products: it declares its own rendering
// model, trains it for a few steps on the bundled MNIST digits, turns the trained network into
// a DRMM, samples from it, reconstructs a test digit and certifies that the network's forward
// pass is max-sum inference in that DRMM.
//
//   swift run -c release --package-path Examples/ClientPackage Client [MNIST directory]
import PackageDescription

let package = Package(
    name: "ClientPackage",
    dependencies: [
        // A project of one's own names the library by its URL and a version instead.
        .package(name: "DRMM", path: "../..")
    ],
    targets: [
        .executableTarget(
            name: "Client",
            dependencies: [
                .product(name: "DRMM", package: "DRMM"),
                .product(name: "DRMMLearning", package: "DRMM"),
                .product(name: "Datasets", package: "DRMM"),
                .product(name: "NumericalCore", package: "DRMM")
            ])
    ]
)
