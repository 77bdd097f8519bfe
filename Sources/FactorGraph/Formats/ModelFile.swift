/// Reads a model in whichever format its name says: `.fg` is libDAI, anything else UAI.
public enum ModelFile {
    public static func read(path: String) throws -> FactorGraph {
        if path.hasSuffix(".fg") { return try LibDAIFormat.read(path: path).graph }
        return try UAIFormat.readModel(path: path)
    }
}
