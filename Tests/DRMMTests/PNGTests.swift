import Foundation
import Testing
import DRMM

@Suite("PNG output")
struct PNGTests {
    @Test("structure, checksums, and an atomic write")
    func png() throws {
        let img = try PNGImage(width: 3, height: 2, pixels: [0, 128, 255, 10, 20, 30])
        let bytes = img.data
        #expect(Array(bytes.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        #expect(Array(bytes[12..<16]) == Array("IHDR".utf8))
        // the fixed IEND chunk
        #expect(Array(bytes.suffix(12)) == [0, 0, 0, 0, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82])
        // The stored deflate block holds the filtered rows verbatim.
        let raw: [UInt8] = [0, 0, 128, 255, 0, 10, 20, 30]
        #expect(bytes.firstRange(of: raw) != nil)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("t-\(getpid()).png").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try img.write(to: path)
        #expect(FileManager.default.contents(atPath: path).map(Array.init) == bytes)
        #expect(throws: DRMMError.self) { try PNGImage(width: 2, height: 2, pixels: [1]) }
        let grid = try PNGImage.grid([[0, 1, 2, 3], [3, 2, 1, 0]], tileWidth: 2, tileHeight: 2, columns: 2, scale: 2)
        #expect(grid.width == 2 * 5 + 1 && grid.height == 6)
    }
}

extension Array where Element == UInt8 {
    func firstRange(of needle: [UInt8]) -> Range<Int>? {
        guard needle.count <= count else { return nil }
        for i in 0...(count - needle.count) where Array(self[i..<(i + needle.count)]) == needle {
            return i..<(i + needle.count)
        }
        return nil
    }
}
