internal import CPNG
import Foundation
import NumericalCore

/// PNG images decoded (and encoded) by libpng's simplified API: any bit depth, palette or
/// alpha, delivered as 8-bit gray or RGB (alpha composited onto black).
public enum PNGFile {
    /// A decoded image: `channels` (1 or 3) planes of `height × width` bytes, channel-major.
    public struct Image: Sendable, Equatable {
        /// 1 (gray) or 3 (RGB).
        public var channels: Int
        /// Rows.
        public var height: Int
        /// Columns.
        public var width: Int
        /// `[channels, height, width]` values 0…255.
        public var planes: [UInt8]
    }

    /// libpng's `PNG_FORMAT_GRAY` and `PNG_FORMAT_RGB` (`PNG_FORMAT_FLAG_COLOR`); the latter is
    /// a composite macro Swift does not import.
    private static let formatGray: UInt32 = 0
    private static let formatRGB: UInt32 = 0x02
    /// `PNG_FORMAT_FLAG_LINEAR`: 16-bit linear samples.
    private static let formatLinear: UInt32 = 0x04

    /// Whether the PNG in `bytes` has colour (read from its header only).
    public static func isColor(_ bytes: [UInt8], path: String) throws -> Bool {
        try withImage(bytes, path: path) { image in image.format & formatRGB != 0 }
    }

    /// Decodes `bytes` as `channels` (1 or 3) planes; the image's size is checked against
    /// `limits` before its pixels are allocated.
    public static func decode(_ bytes: [UInt8], channels: Int, path: String, limits: ResourceLimits = .standard)
        throws -> Image
    {
        guard channels == 1 || channels == 3 else {
            throw DatasetError.mismatch("\(path): PNG images decode to 1 or 3 channels, not \(channels)")
        }
        return try withImage(bytes, path: path) { image in
            let (w, h) = (Int(image.width), Int(image.height))
            let size = try limits.limited(path: path) {
                try limits.checkedProduct([w, h, channels], limit: \.activationsPerImage, what: "the image's pixels")
            }
            // A 16-bit file is linear to libpng, which would gamma-encode it on the way to 8 bits;
            // read its samples as they are and keep the high byte's worth (v / 257, rounded).
            let sixteenBit = image.format & formatLinear != 0
            image.format = (channels == 3 ? formatRGB : formatGray) | (sixteenBit ? formatLinear : 0)
            var interleaved = [UInt8](repeating: 0, count: size)
            let ok: Int32
            if sixteenBit {
                var wide = [UInt16](repeating: 0, count: size)
                ok = wide.withUnsafeMutableBytes {
                    png_image_finish_read(&image, nil, $0.baseAddress, Int32(w * channels), nil)
                }
                for i in 0..<size { interleaved[i] = UInt8((Double(wide[i]) / 257).rounded()) }
            } else {
                ok = interleaved.withUnsafeMutableBytes {
                    png_image_finish_read(&image, nil, $0.baseAddress, Int32(w * channels), nil)
                }
            }
            guard ok != 0 else { throw failure(image, path: path) }
            var planes = [UInt8](repeating: 0, count: size)
            for p in 0..<(w * h) {
                for c in 0..<channels { planes[c * w * h + p] = interleaved[p * channels + c] }
            }
            return Image(channels: channels, height: h, width: w, planes: planes)
        }
    }

    /// Reads and decodes a PNG file (see ``decode(_:channels:path:limits:)``); `channels` nil
    /// keeps the file's own (gray or RGB).
    public static func read(path: String, channels: Int? = nil, limits: ResourceLimits = .standard) throws -> Image {
        let bytes = try readBoundedFile(path, limit: limits.dataBytes)
        let c = try channels ?? (isColor(bytes, path: path) ? 3 : 1)
        return try decode(bytes, channels: c, path: path, limits: limits)
    }

    /// Encodes `image` as an 8-bit gray or RGB PNG.
    public static func encode(_ image: Image) throws -> [UInt8] {
        let (w, h, c) = (image.width, image.height, image.channels)
        var interleaved = [UInt8](repeating: 0, count: w * h * c)
        for p in 0..<(w * h) {
            for k in 0..<c { interleaved[p * c + k] = image.planes[k * w * h + p] }
        }
        var png = png_image()
        png.version = UInt32(PNG_IMAGE_VERSION)
        png.width = UInt32(w)
        png.height = UInt32(h)
        png.format = c == 3 ? formatRGB : formatGray
        var size = 0
        guard png_image_write_to_memory(&png, nil, &size, 0, interleaved, Int32(w * c), nil) != 0 else {
            throw DatasetError.malformed(path: "<png>", reason: "cannot encode: \(message(png))")
        }
        var out = [UInt8](repeating: 0, count: size)
        let ok = out.withUnsafeMutableBytes {
            png_image_write_to_memory(&png, $0.baseAddress, &size, 0, interleaved, Int32(w * c), nil)
        }
        guard ok != 0 else { throw DatasetError.malformed(path: "<png>", reason: "cannot encode: \(message(png))") }
        return Array(out.prefix(size))
    }

    /// Runs `body` on an image whose header libpng has read, and frees libpng's state after.
    private static func withImage<R>(_ bytes: [UInt8], path: String, _ body: (inout png_image) throws -> R) throws
        -> R
    {
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        let begun = bytes.withUnsafeBytes { png_image_begin_read_from_memory(&image, $0.baseAddress, $0.count) }
        guard begun != 0 else { throw failure(image, path: path) }
        defer { png_image_free(&image) }
        return try body(&image)
    }

    private static func failure(_ image: png_image, path: String) -> DatasetError {
        .malformed(path: path, reason: "not a readable PNG: \(message(image))")
    }

    private static func message(_ image: png_image) -> String {
        var copy = image.message
        return withUnsafeBytes(of: &copy) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
    }
}
