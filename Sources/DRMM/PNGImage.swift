import FactorGraph

/// An 8-bit gray or RGB PNG writer, enough for templates, samples and reconstructions.
///
/// The pixel data go into a zlib stream of stored (uncompressed) deflate blocks — valid PNG
/// that every viewer reads, with no compression library needed.
public struct PNGImage: Sendable {
    /// Width in pixels.
    public let width: Int
    /// Height in pixels.
    public let height: Int
    /// 1 (gray) or 3 (RGB).
    public let channels: Int
    /// Row-major pixels, `channels` interleaved values each.
    public var pixels: [UInt8]

    /// An 8-bit image from `width × height` row-major pixels of `channels` (1: gray, 3: RGB)
    /// interleaved values; throws if they do not fit.
    public init(width: Int, height: Int, channels: Int = 1, pixels: [UInt8]) throws {
        guard width >= 1, height >= 1, channels == 1 || channels == 3, pixels.count == width * height * channels
        else {
            throw DRMMError.invalidInput(
                "a \(width)×\(height) image of \(channels) channel(s) needs \(max(0, width * height * channels)) "
                    + "values, got \(pixels.count)")
        }
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
    }

    /// A grid of equally sized maps of `channels` planes each (`[C, H, W]`): RGB when there
    /// are 3, otherwise the planes' mean in gray. Values are scaled from their min to their max,
    /// per tile or jointly; a one-pixel border separates the tiles.
    public static func grid(
        _ tiles: [[Double]], tileWidth w: Int, tileHeight h: Int, channels: Int = 1, columns: Int,
        scale: Int = 1, perTileScaling: Bool = true
    ) throws -> PNGImage {
        guard !tiles.isEmpty, columns >= 1, scale >= 1, channels >= 1,
            tiles.allSatisfy({ $0.count == w * h * channels })
        else {
            throw DRMMError.invalidInput(
                "grid needs tiles of \(channels)×\(h)×\(w) values and at least one column")
        }
        let colour = channels == 3
        let planes =
            colour || channels == 1
            ? tiles
            : tiles.map { t in (0..<(w * h)).map { p in (0..<channels).reduce(0) { $0 + t[$1 * w * h + p] } } }
        let c = colour ? 3 : 1
        let rows = (tiles.count + columns - 1) / columns
        let (cw, ch) = (w * scale + 1, h * scale + 1)
        let (W, H) = (columns * cw + 1, rows * ch + 1)
        var px = [UInt8](repeating: 40, count: W * H * c)
        let allLo = planes.flatMap { $0 }.min() ?? 0, allHi = planes.flatMap { $0 }.max() ?? 1
        for (k, t) in planes.enumerated() {
            let lo = perTileScaling ? (t.min() ?? 0) : allLo, hi = perTileScaling ? (t.max() ?? 1) : allHi
            let span = hi > lo ? hi - lo : 1
            let (ox, oy) = ((k % columns) * cw + 1, (k / columns) * ch + 1)
            for y in 0..<(h * scale) {
                for x in 0..<(w * scale) {
                    for q in 0..<c {
                        let v = (t[q * w * h + (y / scale) * w + x / scale] - lo) / span
                        px[((oy + y) * W + ox + x) * c + q] = UInt8(max(0, min(255, (v * 255).rounded())))
                    }
                }
            }
        }
        return try PNGImage(width: W, height: H, channels: c, pixels: px)
    }

    /// The PNG file's bytes.
    public var data: [UInt8] {
        var raw: [UInt8] = []
        let stride = width * channels
        raw.reserveCapacity((stride + 1) * height)
        for y in 0..<height {
            raw.append(0)
            raw += pixels[(y * stride)..<((y + 1) * stride)]
        }
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
        out += Self.chunk(
            "IHDR", Self.bigEndian(UInt32(width)) + Self.bigEndian(UInt32(height)) + [8, channels == 3 ? 2 : 0, 0, 0, 0]
        )
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
