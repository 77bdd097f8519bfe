/// Errors of the dense linear-algebra layer.
public enum LinearAlgebraError: Error, Equatable, CustomStringConvertible {
    /// Operand shapes do not fit the operation; the message names both shapes.
    case shapeMismatch(String)
    /// A Cholesky factorisation found a non-positive pivot: the matrix is not positive definite.
    case notPositiveDefinite(pivot: Int)
    /// LU factorisation found an exactly zero pivot: the matrix is singular.
    case singular(pivot: Int)
    /// LAPACK rejected an argument (its `info` < 0); names the routine.
    case lapackArgument(routine: String, info: Int32)

    /// The error as one line.
    public var description: String {
        switch self {
        case .shapeMismatch(let s): return "shape mismatch: \(s)"
        case .notPositiveDefinite(let p): return "matrix is not positive definite (leading minor \(p) is not positive)"
        case .singular(let p): return "matrix is singular (zero pivot at \(p))"
        case .lapackArgument(let r, let info): return "\(r): illegal value in argument \(-info)"
        }
    }
}
