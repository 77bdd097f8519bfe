import FactorGraph

/// An 8-bit grayscale PNG writer, enough for templates, samples and reconstructions.
///
/// The pixel data go into a zlib stream of stored (uncompressed) deflate blocks — valid PNG
/// that every viewer reads, with no compression library needed.
public struct PNGImage: Sendable {
    /// Width in pixels.
    public let width: Int
    /// Height in pixels.
    public let height: Int
    /// Row-major gray levels.
    public var pixels: [UInt8]

    /// An 8-bit gray image from `width × height` row-major pixels; throws if they do not fit.
    public init(width: Int, height: Int, pixels: [UInt8]) throws {
        guard width >= 1, height >= 1, pixels.count == width * height else {
            throw DRMMError.invalidInput(
                "a \(width)×\(height) image needs \(max(0, width * height)) pixels, got \(pixels.count)")
        }
        self.width = width; self.height = height; self.pixels = pixels
    }

    /// A grid of equally sized gray maps (values scaled jointly from their min to their max,
    /// or per tile), with a one-pixel border.
    public static func grid(
        _ tiles: [[Double]], tileWidth w: Int, tileHeight h: Int, columns: Int,
        scale: Int = 1, perTileScaling: Bool = true
    ) throws -> PNGImage {
        guard !tiles.isEmpty, columns >= 1, scale >= 1, tiles.allSatisfy({ $0.count == w * h }) else {
            throw DRMMError.invalidInput("grid needs tiles of \(w)×\(h) values and at least one column")
        }
        let rows = (tiles.count + columns - 1) / columns
        let (cw, ch) = (w * scale + 1, h * scale + 1)
        let (W, H) = (columns * cw + 1, rows * ch + 1)
        var px = [UInt8](repeating: 40, count: W * H)
        let allLo = tiles.flatMap { $0 }.min() ?? 0, allHi = tiles.flatMap { $0 }.max() ?? 1
        for (k, t) in tiles.enumerated() {
            let lo = perTileScaling ? (t.min() ?? 0) : allLo, hi = perTileScaling ? (t.max() ?? 1) : allHi
            let span = hi > lo ? hi - lo : 1
            let (ox, oy) = ((k % columns) * cw + 1, (k / columns) * ch + 1)
            for y in 0..<(h * scale) {
                for x in 0..<(w * scale) {
                    let v = (t[(y / scale) * w + x / scale] - lo) / span
                    px[(oy + y) * W + ox + x] = UInt8(max(0, min(255, (v * 255).rounded())))
                }
            }
        }
        return try PNGImage(width: W, height: H, pixels: px)
    }

    /// The PNG file's bytes.
    public var data: [UInt8] {
        var raw: [UInt8] = []
        raw.reserveCapacity((width + 1) * height)
        for y in 0..<height { raw.append(0); raw += pixels[(y * width)..<((y + 1) * width)] }
        var z: [UInt8] = [0x78, 0x01]
        var offset = 0
        repeat {
            let n = min(65_535, raw.count - offset)
            let last: UInt8 = offset + n == raw.count ? 1 : 0
            z += [last, UInt8(n & 0xFF), UInt8(n >> 8), UInt8(~n & 0xFF), UInt8((~n >> 8) & 0xFF)]
            z += raw[offset..<(offset + n)]
            offset += n
        } while offset < raw.count
        z += Self.bigEndian(Self.adler32(raw))
        var out: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        out += Self.chunk("IHDR", Self.bigEndian(UInt32(width)) + Self.bigEndian(UInt32(height)) + [8, 0, 0, 0, 0])
        out += Self.chunk("IDAT", z)
        out += Self.chunk("IEND", [])
        return out
    }

    /// Writes the PNG atomically (temporary file, then rename).
    public func write(to path: String) throws {
        try writeAtomically(bytes: data, to: path)
    }

    static func chunk(_ type: String, _ body: [UInt8]) -> [UInt8] {
        let t = Array(type.utf8)
        return bigEndian(UInt32(body.count)) + t + body + bigEndian(crc32(t + body))
    }

    static func bigEndian(_ v: UInt32) -> [UInt8] {
        [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)]
    }

    static let crcTable: [UInt32] = (0..<256).map { n in
        var c = UInt32(n)
        for _ in 0..<8 { c = (c & 1) != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes { c = crcTable[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        return c ^ 0xFFFF_FFFF
    }

    static func adler32(_ bytes: [UInt8]) -> UInt32 {
        var a: UInt32 = 1, b: UInt32 = 0
        for x in bytes { a = (a + UInt32(x)) % 65_521; b = (b + a) % 65_521 }
        return (b << 16) | a
    }
}
