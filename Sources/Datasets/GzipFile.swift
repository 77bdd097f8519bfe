internal import CZlib

/// Reads a whole file, gunzipping it if it is gzip-compressed (zlib's `gzread` passes plain
/// files through unchanged).
func readPossiblyGzipped(_ path: String, limit: Int = 1 << 31) throws -> [UInt8] {
    guard let f = gzopen(path, "rb") else {
        throw DatasetError.unreadable(path: path, reason: "missing or not readable")
    }
    defer { gzclose(f) }
    var out: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 20)
    while true {
        let n = chunk.withUnsafeMutableBytes { gzread(f, $0.baseAddress, UInt32($0.count)) }
        if n < 0 {
            var code: Int32 = 0
            let message = gzerror(f, &code).map { String(cString: $0) } ?? "decompression error"
            throw DatasetError.malformed(path: path, reason: "corrupt gzip stream (\(message))")
        }
        if n == 0 { break }
        out += chunk[0..<Int(n)]
        if out.count > limit { throw DatasetError.malformed(path: path, reason: "larger than \(limit) bytes") }
    }
    return out
}
