import Foundation
import NumericalCore

/// Seeded mutations of a file, the kinds a careless or hostile user produces.
struct Mutator {
    let rng: RandomSource

    /// Numbers that break naive readers: zero, negatives, 32- and 64-bit edges, huge reals,
    /// NaN, infinity, and a number too long for any integer type.
    static let hostileNumbers = [
        "0", "-1", "-3", "1", "2147483647", "2147483648", "4294967295", "67108864",
        "4611686018427387904", "9223372036854775807", "99999999999999999999999",
        "1e308", "-1e308", "1e-320", "nan", "inf", "-inf", "0x10", "3.5", "1000000000"
    ]

    func pick<T>(_ a: [T]) -> T { a[rng.integer(below: a.count)] }

    /// One text mutation: a number token replaced by a hostile one, a token deleted or
    /// duplicated, a line duplicated, the file truncated, a byte changed, other line endings, a
    /// byte-order mark.
    func mutateText(_ text: String) -> String {
        var tokens = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == " " || $0 == "\n" }).map(
            String.init)
        var separators = text.filter { $0 == " " || $0 == "\n" }.map { String($0) }
        let kind = rng.integer(below: 9)
        switch kind {
        case 0, 1, 2:
            let numeric = tokens.indices.filter { Double(tokens[$0]) != nil }
            if let i = numeric.isEmpty ? nil : pick(numeric) { tokens[i] = pick(Self.hostileNumbers) }
        case 3:
            if !tokens.isEmpty {
                let i = rng.integer(below: tokens.count); tokens.remove(at: i);
                if i < separators.count { separators.remove(at: i) }
            }
        case 4:
            if !tokens.isEmpty {
                let i = rng.integer(below: tokens.count); tokens.insert(tokens[i], at: i);
                separators.insert(" ", at: min(i, separators.count))
            }
        case 5:
            return String(text.prefix(rng.integer(below: max(1, text.count))))
        case 6:
            var bytes = Array(text.utf8)
            if !bytes.isEmpty { bytes[rng.integer(below: bytes.count)] = UInt8(rng.integer(below: 256)) }
            return String(decoding: bytes, as: UTF8.self)
        case 7:
            return (rng.uniform() < 0.5 ? "\u{FEFF}" : "")
                + text.replacingOccurrences(of: "\n", with: rng.uniform() < 0.5 ? "\r\n" : "\r")
        default:
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            let i = rng.integer(below: lines.count)
            return (lines[..<i] + [lines[i]] + lines[i...]).joined(separator: "\n")
        }
        var out = ""
        for (i, t) in tokens.enumerated() { out += t; if i < separators.count { out += separators[i] } }
        return out
    }

    /// One byte-level mutation of binary data: a header byte set to 0xFF or 0, a byte flipped,
    /// the data truncated or extended.
    func mutateBytes(_ data: [UInt8], header: Int) -> [UInt8] {
        var b = data
        switch rng.integer(below: 5) {
        case 0: b[rng.integer(below: min(header, b.count))] = 0xFF
        case 1: b[rng.integer(below: min(header, b.count))] = 0
        case 2: let i = rng.integer(below: b.count); b[i] ^= UInt8(1 << rng.integer(below: 8))
        case 3: b = Array(b.prefix(rng.integer(below: b.count)))
        default: b += [UInt8](repeating: UInt8(rng.integer(below: 256)), count: 1 + rng.integer(below: 64))
        }
        return b
    }
}

/// Small valid inputs to mutate, written by the tests themselves.
enum Inputs {
    /// A loopy MARKOV model: a ring of `n` variables with a chord, unary and pairwise tables.
    static func markov(n: Int, rng: RandomSource) -> String {
        let cards = (0..<n).map { _ in 2 + rng.integer(below: 2) }
        var scopes: [[Int]] = (0..<n).map { [$0] } + (0..<n).map { [$0, ($0 + 1) % n] } + [[0, n / 2]]
        scopes = scopes.filter { Set($0).count == $0.count }
        var s = "MARKOV\n\(n)\n" + cards.map(String.init).joined(separator: " ") + "\n\(scopes.count)\n"
        for sc in scopes { s += "\(sc.count) " + sc.map(String.init).joined(separator: " ") + "\n" }
        for sc in scopes {
            let size = sc.map { cards[$0] }.reduce(1, *)
            s +=
                "\n\(size)\n "
                + (0..<size).map { _ in String(format: "%.4g", 0.1 + rng.uniform() * 2) }.joined(separator: " ") + "\n"
        }
        return s
    }

    /// A BAYES chain `x0 → x1 → … `, binary.
    static func bayes(n: Int, rng: RandomSource) -> String {
        var s = "BAYES\n\(n)\n" + Array(repeating: "2", count: n).joined(separator: " ") + "\n\(n)\n1 0\n"
        for v in 1..<n { s += "2 \(v - 1) \(v)\n" }
        let p = rng.uniform()
        s += "\n2\n \(p) \(1 - p)\n"
        for _ in 1..<n {
            let a = rng.uniform(), b = rng.uniform()
            s += "\n4\n \(a) \(1 - a)\n \(b) \(1 - b)\n"
        }
        return s
    }

    /// A libDAI `.fg` file: a triangle of pairwise factors with sparse tables.
    static func libDAI(rng: RandomSource) -> String {
        var s = "# a triangle\n3\n"
        for (a, b) in [(0, 1), (1, 2), (0, 2)] {
            s += "\n2\n\(a) \(b)\n2 2\n3\n0 \(0.5 + rng.uniform())\n1 \(rng.uniform())\n3 \(0.5 + rng.uniform())\n"
        }
        return s
    }

    /// Evidence on the first `k` variables.
    static func evidence(k: Int) -> String { "\(k)" + (0..<k).map { " \($0) \($0 % 2)" }.joined() + "\n" }

    /// An IDX file of unsigned bytes with the given sizes.
    static func idx(dimensions: [Int], data: [UInt8]) -> [UInt8] {
        var b: [UInt8] = [0, 0, 8, UInt8(dimensions.count)]
        for d in dimensions {
            b += [UInt8(d >> 24 & 0xFF), UInt8(d >> 16 & 0xFF), UInt8(d >> 8 & 0xFF), UInt8(d & 0xFF)]
        }
        return b + data
    }

    /// A tiny MNIST-shaped data directory: `train` and `test` images of random strokes.
    static func mnist(at dir: String, train: Int, test: Int, rng: RandomSource) throws {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for (prefix, n) in [("train", train), ("t10k", test)] {
            var pixels = [UInt8](repeating: 0, count: n * 784)
            var labels = [UInt8](repeating: 0, count: n)
            for i in 0..<n {
                let c = i % 10
                labels[i] = UInt8(c)
                for r in 4..<24 {
                    pixels[i * 784 + r * 28 + 4 + 2 * c] = 255;
                    pixels[i * 784 + r * 28 + 5 + 2 * c] = UInt8(128 + rng.integer(below: 128))
                }
            }
            try Data(idx(dimensions: [n, 28, 28], data: pixels)).write(
                to: URL(fileURLWithPath: "\(dir)/\(prefix)-images-idx3-ubyte"))
            try Data(idx(dimensions: [n], data: labels)).write(
                to: URL(fileURLWithPath: "\(dir)/\(prefix)-labels-idx1-ubyte"))
        }
    }
}
