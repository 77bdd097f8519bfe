import DRMM

/// How the training pass computes a level's convolution and its two adjoints (the filter
/// gradient and the transposed convolution of the top-down pass). Both give the same numbers
/// up to rounding; they differ in cost.
public enum ConvolutionAlgorithm: String, Codable, Sendable, CaseIterable {
    /// Every level as im2col + one GEMM (col2im for the transposed convolution).
    case im2col
    /// 3×3 levels by Winograd's F(2×2, 3×3) (`Winograd`: 16 GEMMs with 2.25× fewer
    /// multiply-adds), the other levels by im2col.
    case winograd

    /// Whether level geometry `g` runs by Winograd's algorithm under this choice.
    func usesWinograd(_ g: LayerGeometry) -> Bool { self == .winograd && Winograd.applies(to: g) }
}
