import NumericalCore

/// Reads a model in whichever format its name says: `.fg` is libDAI, `.bif` the Bayesian
/// Interchange Format and `.xml`/`.xmlbif` its XML form (the network's factor graph), anything
/// else UAI.
public enum ModelFile {
    /// Reads the model at `path`, checking its sizes against `limits`.
    public static func read(path: String, limits: ResourceLimits = .standard) throws -> FactorGraph {
        if path.hasSuffix(".fg") { return try LibDAIFormat.read(path: path, limits: limits).graph }
        if path.hasSuffix(".bif") { return try BIFFormat.read(path: path, limits: limits).factorGraph() }
        if path.hasSuffix(".xml") || path.hasSuffix(".xmlbif") {
            return try XMLBIFFormat.read(path: path, limits: limits).factorGraph()
        }
        return try UAIFormat.readModel(path: path, limits: limits)
    }
}
