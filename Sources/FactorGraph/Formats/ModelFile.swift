import NumericalCore

/// Reads a model in whichever format its name says: `.fg` is libDAI, anything else UAI.
public enum ModelFile {
    /// Reads the model at `path`, checking its sizes against `limits`.
    public static func read(path: String, limits: ResourceLimits = .standard) throws -> FactorGraph {
        if path.hasSuffix(".fg") { return try LibDAIFormat.read(path: path, limits: limits).graph }
        return try UAIFormat.readModel(path: path, limits: limits)
    }
}
