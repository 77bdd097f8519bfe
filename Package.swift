// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "DRMM",
    products: [
        .library(name: "NumericalCore", targets: ["NumericalCore"]),
        .library(name: "FactorGraph", targets: ["FactorGraph"]),
        .library(name: "DRMM", targets: ["DRMM"]),
        .library(name: "EDRMM", targets: ["EDRMM"]),
        .library(name: "DRMMLearning", targets: ["DRMMLearning"]),
        .library(name: "GenerativeNetworks", targets: ["GenerativeNetworks"]),
        .library(name: "Datasets", targets: ["Datasets"]),
        // MPI: empty unless the package is built with the trait (`swift build --traits MPI`).
        .library(name: "DRMMMPI", targets: ["DRMMMPI"]),
        .executable(name: "drmm", targets: ["drmm"]),
        // Inference, sampling and learning on model files, linking FactorGraph alone.
        .executable(name: "pgm", targets: ["pgm"])
    ],
    // `MPI` builds DRMMMPI against the system's MPI (Open MPI or MPICH, pkg-config `mpi`) and
    // gives `drmm` its `--mpi` option. The default build needs no MPI.
    traits: [.trait(name: "MPI", description: "Distributed training and batch inference over MPI.")],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.0"),
        // `swift package generate-documentation` for the DocC catalogues.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.4.0")
    ],
    targets: [
        // System libraries (Debian packages). OpenBLAS gives CBLAS and LAPACK (its Fortran interface,
        // declared in COpenBLAS/shim.h); it is linked statically (module.modulemap: libopenblas.a,
        // which libopenblas-dev installs, found through Debian's alternatives without pkg-config),
        // because loading the shared library costs 1.6 ms of every process start, more than
        // inference on a small model. GSL is linked without its pkg-config file on purpose:
        // gsl.pc adds -lgslcblas, and the process must bind every cblas_* symbol to OpenBLAS.
        .systemLibrary(name: "COpenBLAS", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CGSL", providers: [.apt(["libgsl-dev"])]),
        .systemLibrary(name: "CExpat", pkgConfig: "expat", providers: [.apt(["libexpat1-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CZip", pkgConfig: "libzip", providers: [.apt(["libzip-dev"])]),
        .systemLibrary(name: "CMPI", pkgConfig: "mpi", providers: [.apt(["libopenmpi-dev", "openmpi-bin"])]),

        .target(name: "NumericalCore", dependencies: ["COpenBLAS", "CGSL"]),
        .target(name: "FactorGraph", dependencies: ["NumericalCore", "CExpat"]),
        .target(name: "DRMM", dependencies: ["FactorGraph", "NumericalCore"]),
        .target(name: "EDRMM", dependencies: ["FactorGraph", "NumericalCore"]),
        .target(name: "DRMMLearning", dependencies: ["DRMM", "FactorGraph", "NumericalCore", "Datasets"]),
        .target(name: "GenerativeNetworks", dependencies: ["FactorGraph", "NumericalCore"]),
        .target(name: "Datasets", dependencies: ["CZlib", "CPNG", "CZip", "NumericalCore"]),
        .target(
            name: "DRMMMPI", dependencies: ["DRMMLearning", .target(name: "CMPI", condition: .when(traits: ["MPI"]))]),
        // The model-file commands (infer, sample, learn) that `drmm` and `pgm` share.
        .target(
            name: "FactorGraphCommands",
            dependencies: [
                "FactorGraph", "NumericalCore", .product(name: "ArgumentParser", package: "swift-argument-parser")
            ]),
        .executableTarget(
            name: "pgm",
            dependencies: [
                "FactorGraphCommands", .product(name: "ArgumentParser", package: "swift-argument-parser")
            ]),
        .executableTarget(
            name: "drmm",
            dependencies: [
                "FactorGraph", "FactorGraphCommands", "DRMM", "DRMMLearning", "EDRMM", "GenerativeNetworks", "Datasets", "DRMMMPI",
                .product(name: "ArgumentParser", package: "swift-argument-parser")
            ]),
        .executableTarget(
            name: "FactorGraphBenchmark",
            dependencies: ["FactorGraph", "NumericalCore"],
            path: "Benchmarks/FactorGraphBenchmark"),
        .executableTarget(
            name: "DRMMBenchmark",
            dependencies: ["DRMM", "NumericalCore"],
            path: "Benchmarks/DRMMBenchmark"),
        .executableTarget(
            name: "MPIBenchmark",
            dependencies: ["DRMMLearning", "DRMMMPI"],
            path: "Benchmarks/MPIBenchmark"),
        .executableTarget(
            name: "RenderAndInfer",
            dependencies: ["DRMM", "NumericalCore"],
            path: "Examples/RenderAndInfer"),
        .executableTarget(
            name: "WorkedExamples",
            dependencies: ["FactorGraph", "NumericalCore"],
            path: "Examples/WorkedExamples"),

        .testTarget(name: "NumericalCoreTests", dependencies: ["NumericalCore"]),
        .testTarget(
            name: "FactorGraphCommandsTests",
            dependencies: [
                "FactorGraphCommands", .product(name: "ArgumentParser", package: "swift-argument-parser")
            ]),
        // Runs the built `drmm` executable: careless and hostile input through the user's code paths.
        .testTarget(name: "CommandLineTests", dependencies: ["NumericalCore"]),
        // Independent loop implementations (oracles) shared by the DRMM and learning tests.
        .target(name: "DRMMTestSupport", dependencies: ["DRMM", "NumericalCore"], path: "Tests/DRMMTestSupport"),
        .testTarget(
            name: "DRMMLearningTests",
            dependencies: ["DRMMLearning", "DRMM", "NumericalCore", "Datasets", "DRMMTestSupport"],
            exclude: ["Fixtures"]),
        .testTarget(
            name: "GenerativeNetworksTests", dependencies: ["GenerativeNetworks", "FactorGraph", "NumericalCore"]),
        .testTarget(name: "DatasetsTests", dependencies: ["Datasets", "CZlib", "NumericalCore"], exclude: ["Fixtures"]),
        .testTarget(name: "EDRMMTests", dependencies: ["EDRMM", "FactorGraph", "NumericalCore"]),
        .testTarget(
            name: "DRMMTests",
            dependencies: [
                "DRMM", "FactorGraph", "NumericalCore", "DRMMTestSupport",
                .product(name: "PropertyBased", package: "swift-property-based")
            ]),
        .testTarget(
            name: "FactorGraphTests",
            dependencies: [
                "FactorGraph", "NumericalCore",
                .product(name: "PropertyBased", package: "swift-property-based")
            ],
            resources: [.copy("Fixtures")])
    ]
)
