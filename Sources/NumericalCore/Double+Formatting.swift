#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

extension Double {
    /// The value as C's `printf` writes it with `%.<digits>g`: at most `digits` significant
    /// digits (17 reproduce every `Double` exactly).
    public func formatted(significantDigits digits: Int) -> String {
        printf("%.*g", digits)
    }

    /// The value as C's `printf` writes it with `%.<places>f`: `places` digits after the point.
    public func formatted(decimalPlaces places: Int) -> String {
        printf("%.*f", places)
    }

    private func printf(_ format: String, _ precision: Int) -> String {
        let precision = Int32(clamping: Swift.max(0, Swift.min(precision, 40)))
        var buffer = [CChar](repeating: 0, count: 64)
        for _ in 0..<2 {
            let needed = buffer.withUnsafeMutableBufferPointer { out in
                withVaList([precision, self]) { vsnprintf(out.baseAddress, out.count, format, $0) }
            }
            if needed < 0 { return "\(self)" }
            if Int(needed) < buffer.count {
                return String(decoding: buffer[..<Int(needed)].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            }
            buffer = [CChar](repeating: 0, count: Int(needed) + 1)
        }
        return "\(self)"
    }
}
