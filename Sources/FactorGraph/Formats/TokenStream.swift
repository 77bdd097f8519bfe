#if canImport(Glibc)
import Glibc
#endif
import NumericalCore

/// Whitespace-separated tokens of a text file, each with its 1-based line, for parsers that
/// report errors as `path:line: message`.
///
/// It works on the file's bytes: LF, CRLF and CR all end a line (and count as one line each),
/// a UTF-8 byte-order mark is skipped, spaces, tabs, vertical tabs and form feeds separate
/// tokens. Numbers are read in place (integers with overflow checks, reals by `strtod`, so
/// any decimal or exponent form), without a `String` per token.
struct TokenStream {
    let path: String
    /// The file's bytes and a terminating zero (which `strtod` stops at).
    private let bytes: [UInt8]
    /// Per token: its first byte, one past its last, and its line.
    private var starts: [Int32] = []
    private var ends: [Int32] = []
    private var lines: [Int32] = []
    private(set) var position = 0

    /// Splits `text` into tokens; a `#` starts a comment to the end of the line when
    /// `comments` is true.
    init(text: String, path: String, comments: Bool) {
        self.init(bytes: Array(text.utf8), path: path, comments: comments)
    }

    /// Splits UTF-8 `bytes` into tokens (see ``init(text:path:comments:)``).
    init(bytes input: [UInt8], path: String, comments: Bool) {
        self.path = path
        var b = input
        b.append(0)
        bytes = b
        let estimate = input.count / 4
        starts.reserveCapacity(estimate); ends.reserveCapacity(estimate); lines.reserveCapacity(estimate)
        var line: Int32 = 1
        var i = input.count >= 3 && input[0] == 0xEF && input[1] == 0xBB && input[2] == 0xBF ? 3 : 0
        let n = input.count
        b.withUnsafeBufferPointer { p in
            while i < n {
                let c = p[i]
                if c == 0x0A { line += 1; i += 1; continue }
                if c == 0x0D { line += 1; i += (i + 1 < n && p[i + 1] == 0x0A) ? 2 : 1; continue }
                if c == 0x20 || c == 0x09 || c == 0x0B || c == 0x0C || c == 0 { i += 1; continue }
                if comments && c == 0x23 {
                    while i < n && p[i] != 0x0A && p[i] != 0x0D { i += 1 }
                    continue
                }
                let s = i
                while i < n {
                    let d = p[i]
                    if d == 0x20 || d == 0x09 || d == 0x0A || d == 0x0D || d == 0x0B || d == 0x0C || d == 0 { break }
                    if comments && d == 0x23 { break }
                    i += 1
                }
                starts.append(Int32(truncatingIfNeeded: s)); ends.append(Int32(truncatingIfNeeded: i));
                lines.append(line)
            }
        }
    }

    var isAtEnd: Bool { position >= starts.count }
    var remaining: Int { starts.count - position }

    /// The line of the next token (or of the last one at the end).
    var line: Int { starts.isEmpty ? 0 : Int(lines[min(position, starts.count - 1)]) }

    func error(_ message: String, line: Int? = nil) -> FactorGraphError {
        .malformedFile(path: path, line: line ?? self.line, message: message)
    }

    private func text(_ k: Int) -> Substring {
        let s = Int(starts[k]), e = Int(ends[k])
        return Substring(String(decoding: bytes[s..<min(e, s + 60)], as: UTF8.self))
    }

    /// Runs a size check, reporting a ``ResourceLimitError`` as this file's error at `line`.
    @discardableResult
    func limited<R>(_ line: Int, _ check: () throws -> R) throws -> R {
        do { return try check() } catch let e as ResourceLimitError { throw error("\(e)", line: line) }
    }

    /// Moves past the next token and returns its index.
    private mutating func advance(_ what: @autoclosure () -> String) throws -> Int {
        guard position < starts.count else {
            throw FactorGraphError.malformedFile(
                path: path, line: 0, message: "unexpected end of file: expected \(what())")
        }
        defer { position += 1 }
        return position
    }

    mutating func next(_ what: @autoclosure () -> String) throws -> (text: Substring, line: Int) {
        let k = try advance(what())
        let s = Int(starts[k]), e = Int(ends[k])
        return (Substring(String(decoding: bytes[s..<e], as: UTF8.self)), Int(lines[k]))
    }

    /// The next token as a word.
    mutating func word(_ what: @autoclosure () -> String) throws -> String { String(try next(what()).text) }

    /// The next token as an integer in `range`.
    mutating func integer(_ what: @autoclosure () -> String, in range: ClosedRange<Int> = 0...Int.max) throws -> Int {
        let k = try advance(what())
        let line = Int(lines[k])
        guard let v = parseInteger(k) else {
            throw error("expected \(what()) (an integer), found '\(text(k).prefix(40))'", line: line)
        }
        guard range.contains(v) else {
            throw error("\(what()) must be in \(range.lowerBound)...\(range.upperBound), found \(v)", line: line)
        }
        return v
    }

    private func parseInteger(_ k: Int) -> Int? {
        var i = Int(starts[k])
        let e = Int(ends[k])
        var negative = false
        if bytes[i] == 0x2B || bytes[i] == 0x2D { negative = bytes[i] == 0x2D; i += 1 }
        guard i < e else { return nil }
        var v = 0
        while i < e {
            let d = Int(bytes[i]) - 0x30
            guard d >= 0 && d <= 9 else { return nil }
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(negative ? -d : d)
            if o1 || o2 { return nil }
            v = a
            i += 1
        }
        return v
    }

    /// The next token as a real number in any decimal or exponent form (not NaN; `inf` is
    /// returned as read, for the caller to refuse where it must).
    mutating func real(_ what: @autoclosure () -> String) throws -> (value: Double, line: Int) {
        let k = try advance(what())
        let line = Int(lines[k])
        let s = Int(starts[k]), e = Int(ends[k])
        var v = Double.nan
        var consumed = 0
        bytes.withUnsafeBufferPointer { p in
            p.baseAddress!.withMemoryRebound(to: CChar.self, capacity: p.count) { c in
                var end: UnsafeMutablePointer<CChar>? = nil
                v = strtod(c + s, &end)
                consumed = end.map { UnsafePointer($0) - (c + s) } ?? 0
            }
        }
        guard consumed == e - s, !v.isNaN, !isHexadecimal(s, e) else {
            throw error("expected \(what()) (a number), found '\(text(k).prefix(40))'", line: line)
        }
        return (v, line)
    }

    /// `strtod` also reads C's hexadecimal floats; a model file means decimal.
    private func isHexadecimal(_ s: Int, _ e: Int) -> Bool {
        var i = s
        if i < e && (bytes[i] == 0x2B || bytes[i] == 0x2D) { i += 1 }
        return i + 1 < e && bytes[i] == 0x30 && (bytes[i + 1] == 0x78 || bytes[i + 1] == 0x58)
    }
}

/// Reads a whole file's bytes (a regular file, or a pipe or device read to its end), mapping
/// I/O failures to ``FactorGraphError/malformedFile(path:line:message:)``. Files of 2 GiB or
/// more are refused before they are read (token positions are 32-bit).
func readFileBytes(_ path: String) throws -> [UInt8] {
    func failure(_ message: String) -> FactorGraphError { .malformedFile(path: path, line: 0, message: message) }
    let limit = Int(Int32.max)
    let tooLarge = "the file has 2 GiB or more; model and evidence files must be under 2 GiB"
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw failure("cannot read the file (\(String(cString: strerror(errno))))") }
    defer { close(fd) }
    var info = stat()
    guard fstat(fd, &info) == 0 else { throw failure("cannot read the file (\(String(cString: strerror(errno))))") }
    if (info.st_mode & S_IFMT) == S_IFDIR { throw failure("cannot read the file (it is a directory)") }
    let regular = (info.st_mode & S_IFMT) == S_IFREG
    if regular && Int(info.st_size) >= limit { throw failure(tooLarge) }
    var bytes = [UInt8](repeating: 0, count: regular ? Int(info.st_size) + 1 : 1 << 16)
    var count = 0
    while true {
        if count == bytes.count {
            guard count < limit else { throw failure(tooLarge) }
            bytes.append(contentsOf: repeatElement(0, count: Swift.min(count, limit - count + 1)))
        }
        let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress.unsafelyUnwrapped + count, $0.count - count) }
        if n < 0 {
            if errno == EINTR { continue }
            throw failure("cannot read the file (\(String(cString: strerror(errno))))")
        }
        if n == 0 { break }
        count += n
    }
    guard count < limit else { throw failure(tooLarge) }
    bytes.removeSubrange(count...)
    return bytes
}

/// Writes `text` atomically: to a temporary file in the same directory, then `rename(2)` over
/// `path`, so a reader sees the old file or the new one, never a partial write.
public func writeAtomically(_ text: String, to path: String) throws {
    try writeAtomically(bytes: Array(text.utf8), to: path)
}

/// Writes `bytes` durably and atomically: to a new temporary file in the same directory,
/// `fsync`, `rename(2)` over `path`, then `fsync` of the directory, so that after a crash a
/// reader finds the old file or the new one, never a partial write. Temporary files that
/// killed writers left behind for the same `path` are removed first.
public func writeAtomically(bytes: [UInt8], to path: String) throws {
    func failure(_ what: String) -> FactorGraphError {
        .malformedFile(path: path, line: 0, message: "cannot write: \(what): \(String(cString: strerror(errno)))")
    }
    let slash = path.lastIndex(of: "/")
    let directory = slash.map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
    let prefix = ".\(slash.map { String(path[path.index(after: $0)...]) } ?? path).tmp-"
    removeStaleTemporaries(in: directory, prefix: prefix)
    let tmp = directory + "/" + prefix + "\(getpid())"
    let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw failure("cannot create \(tmp)") }
    var written = 0
    let ok = bytes.withUnsafeBytes { raw -> Bool in
        while written < raw.count {
            let n = write(fd, raw.baseAddress! + written, raw.count - written)
            if n < 0 { if errno == EINTR { continue }; return false }
            written += n
        }
        return fsync(fd) == 0
    }
    guard ok else { let e = failure("write"); close(fd); unlink(tmp); throw e }
    guard close(fd) == 0 else { let e = failure("close"); unlink(tmp); throw e }
    guard rename(tmp, path) == 0 else { let e = failure("rename"); unlink(tmp); throw e }
    let dfd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    if dfd >= 0 { _ = fsync(dfd); close(dfd) }
}

/// Removes `prefix<pid>` files of writers that no longer run.
private func removeStaleTemporaries(in directory: String, prefix: String) {
    guard let listing = opendir(directory) else { return }
    var names: [String] = []
    while let entry = readdir(listing) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
        if name.hasPrefix(prefix) { names.append(name) }
    }
    closedir(listing)
    for name in names {
        guard let pid = Int32(name.dropFirst(prefix.count)) else { continue }
        if pid == getpid() || (kill(pid, 0) != 0 && errno == ESRCH) { unlink(directory + "/" + name) }
    }
}
