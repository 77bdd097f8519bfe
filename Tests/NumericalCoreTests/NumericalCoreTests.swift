import Foundation
import Testing
import NumericalCore

@Suite("Dense linear algebra over OpenBLAS and LAPACK")
struct NumericalCoreTests {
    func random(_ r: Int, _ c: Int, _ rng: RandomSource) -> Matrix {
        var m = Matrix(rows: r, columns: c)
        for i in m.elements.indices { m.elements[i] = rng.gaussian() }
        return m
    }

    @Test("dgemm equals the triple loop, with transposes")
    func gemm() throws {
        let rng = RandomSource(seed: 1)
        for (m, k, n) in [(1, 1, 1), (3, 5, 2), (17, 9, 31), (64, 64, 64)] {
            let a = random(m, k, rng), b = random(k, n, rng)
            let c = try a * b
            for i in 0..<m {
                for j in 0..<n {
                    var s = 0.0
                    for l in 0..<k { s += a[i, l] * b[l, j] }
                    #expect(abs(c[i, j] - s) <= 1e-12 * max(1, abs(s)))
                }
            }
            var ct = Matrix(rows: m, columns: n)
            try Matrix.multiply(a.transposed, b.transposed, transposeA: true, transposeB: true, into: &ct)
            #expect(zip(ct.elements, c.elements).allSatisfy { abs($0 - $1) <= 1e-12 * max(1, abs($1)) })
        }
        #expect(throws: LinearAlgebraError.self) { try random(2, 3, rng) * random(2, 3, rng) }
    }

    @Test("Cholesky: solve, inverse, log-determinant; indefinite matrices are rejected")
    func cholesky() throws {
        let rng = RandomSource(seed: 2)
        let a = random(6, 6, rng)
        var spd = try a.transposed * a
        for i in 0..<6 { spd[i, i] += 0.5 }
        let ch = try Cholesky(spd)
        let b = (0..<6).map { _ in rng.gaussian() }
        let x = try ch.solve(b)
        let ax = try spd.times(x)
        #expect(zip(ax, b).allSatisfy { abs($0 - $1) < 1e-10 })
        let inv = try ch.inverse()
        let eye = try spd * inv
        for i in 0..<6 { for j in 0..<6 { #expect(abs(eye[i, j] - (i == j ? 1 : 0)) < 1e-10) } }
        // log det by LU-free check: det of L·Lᵀ = Π Lᵢᵢ².
        let lu = try spd.solve(Matrix.identity(6))
        #expect(abs(try (lu * spd)[0, 0] - 1) < 1e-10)
        #expect(throws: LinearAlgebraError.notPositiveDefinite(pivot: 2)) { try Cholesky(try Matrix([[1, 2], [2, 1]])) }
        #expect(throws: LinearAlgebraError.self) { try Matrix([[1, 2], [2, 4]]).solve([1, 1]) }
        #expect(abs(try Cholesky(Matrix.diagonal([2, 3, 4])).logDeterminant - log(24)) < 1e-14)
    }

    @Test(
        "row-major in, row-major out: L·Lᵀ = A with L lower, and A·X = B for a non-symmetric A and several right sides")
    func rowMajorLAPACK() throws {
        let rng = RandomSource(seed: 3)
        for (n, k) in [(1, 1), (2, 3), (5, 1), (7, 4)] {
            let g = random(n, n, rng)
            var spd = try g.transposed * g
            for i in 0..<n { spd[i, i] += 0.5 }
            let ch = try Cholesky(spd)
            for i in 0..<n { for j in (i + 1)..<n { #expect(ch.lower[i, j] == 0) } }
            let product = try ch.lower * ch.lower.transposed
            #expect(zip(product.elements, spd.elements).allSatisfy { abs($0 - $1) < 1e-10 })
            let b = random(n, k, rng)
            let y = try ch.solve(b)
            #expect(zip(try (spd * y).elements, b.elements).allSatisfy { abs($0 - $1) < 1e-9 })

            var a = random(n, n, rng)
            for i in 0..<n { a[i, i] += Double(n) }  // non-symmetric, well conditioned
            let x = try a.solve(b)
            #expect(x.rows == n && x.columns == k)
            #expect(zip(try (a * x).elements, b.elements).allSatisfy { abs($0 - $1) < 1e-10 })
            let inverse = try a.inverse()
            let eye = try a * inverse
            for i in 0..<n { for j in 0..<n { #expect(abs(eye[i, j] - (i == j ? 1 : 0)) < 1e-10) } }
        }
    }

    @Test("every cblas symbol binds to the OpenBLAS linked in, not to GSL's CBLAS")
    func oneCBLAS() throws {
        _ = try Matrix.identity(4) * Matrix.identity(4)
        // Which mapped file holds the address the dynamic linker resolved each symbol to?
        // (/proc files report size 0, so read the stream to its end.)
        let data = try #require(FileHandle(forReadingAtPath: "/proc/self/maps")).readDataToEndOfFile()
        let maps = String(decoding: data, as: UTF8.self).split(separator: "\n")
        #expect(!maps.isEmpty)
        func library(containing address: UInt) -> String? {
            for line in maps {
                let fields = line.split(separator: " ", omittingEmptySubsequences: true)
                guard fields.count >= 6 else { continue }
                let range = fields[0].split(separator: "-")
                guard let lo = UInt(range[0], radix: 16), let hi = UInt(range[1], radix: 16) else { continue }
                if lo <= address && address < hi { return String(fields[5]) }
            }
            return nil
        }
        // OpenBLAS is linked statically: the symbols GSL's references bind to are the executable's own.
        let executable = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        let handle = dlopen(nil, RTLD_NOW)
        for symbol in ["cblas_dgemm", "cblas_ddot", "cblas_sgemm"] {
            let address = try #require(dlsym(handle, symbol))
            let lib = library(containing: UInt(bitPattern: address))
            #expect(lib == executable, "\(symbol) resolves to \(lib ?? "?"), not to \(executable)")
        }
        #expect(BLASInfo.threadCount >= 1)
    }

    @Test("the GSL generator is reproducible and its samplers have the right moments")
    func randomSource() {
        let a = RandomSource(seed: 42), b = RandomSource(seed: 42)
        #expect((0..<10).map { _ in a.next() } == (0..<10).map { _ in b.next() })
        let rng = RandomSource(seed: 7)
        let n = 200_000
        var s = 0.0, s2 = 0.0
        for _ in 0..<n { let x = rng.gaussian(mean: 1, standardDeviation: 2); s += x; s2 += x * x }
        let mean = s / Double(n), variance = s2 / Double(n) - mean * mean
        #expect(abs(mean - 1) < 0.02 && abs(variance - 4) < 0.05)
        var counts = [0, 0, 0]
        for _ in 0..<30_000 { counts[rng.categorical([1, 2, 3])] += 1 }
        #expect(abs(Double(counts[2]) / 30_000 - 0.5) < 0.02)
    }

    @Test("log-space arithmetic never makes NaN from log 0")
    func logSpace() {
        #expect(LogSpace.add(-.infinity, -.infinity) == -.infinity)
        #expect(LogSpace.add(-.infinity, 2) == 2)
        #expect(abs(LogSpace.add(log(0.25), log(0.5)) - log(0.75)) < 1e-15)
        #expect(LogSpace.sum([-Double.infinity, -.infinity]) == -.infinity)
        #expect(abs(LogSpace.sum([1000, 1000]) - (1000 + log(2))) < 1e-12)
        #expect(LogSpace.entropyTerm(logP: -.infinity) == 0)
    }
}

@Suite("Matrix construction")
struct MatrixConstructionTests {
    @Test("a negative size gives an empty matrix whose use is a typed shape error")
    func negativeSize() throws {
        let m = Matrix(rows: -2, columns: 3)
        #expect(m.rows == 0 && m.columns == 3 && m.elements.isEmpty)
        #expect(throws: LinearAlgebraError.self) { try m * Matrix.identity(2) }
        #expect(throws: LinearAlgebraError.self) { try Matrix(rows: 2, columns: 2, elements: [1]) }
    }
}
