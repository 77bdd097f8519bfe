import CExpat

extension XMLBIFFormat {
    /// The variables and definitions of an XMLBIF document, collected as Expat reports its
    /// elements.
    final class Reader {
        struct VariableEntry {
            var name = "", outcomes: [String] = [], line = 0
        }
        struct Definition {
            var child = "", given: [String] = [], table: [Double] = [], line = 0
        }
        var variables: [VariableEntry] = []
        var definitions: [Definition] = []
        /// The elements open at the end (a well-formed file ends with none).
        var open: [String] = []
        /// The line the parser stopped on.
        var lastLine = 0
        private var failure: (line: Int, message: String)?
        private var text: [UInt8] = []
        private var variable: VariableEntry?
        private var definition: Definition?
        private let parser: XML_Parser

        /// Parses `bytes` (UTF-8 XML) to the end or to the first error.
        /// - Throws: ``FactorGraphError/malformedFile(path:line:message:)`` for XML that is not
        ///   well formed (Expat's message and line) or a table entry that is not a number.
        init(parsing bytes: [UInt8], path: String) throws {
            guard bytes.count <= Int(Int32.max), let parser = XML_ParserCreate("UTF-8") else {
                throw FactorGraphError.malformedFile(path: path, line: 0, message: "cannot parse the file as XML")
            }
            self.parser = parser
            defer { XML_ParserFree(parser) }
            XML_SetUserData(parser, Unmanaged.passUnretained(self).toOpaque())
            XML_SetElementHandler(
                parser,
                { user, name, _ in Reader.from(user).start(name.map { String(cString: $0) } ?? "") },
                { user, _ in Reader.from(user).end() })
            XML_SetCharacterDataHandler(parser) { user, characters, count in
                guard let characters, count > 0 else { return }
                Reader.from(user).text.append(
                    contentsOf: UnsafeRawBufferPointer(start: characters, count: Int(count)))
            }
            let status = bytes.withUnsafeBufferPointer { b in
                b.withMemoryRebound(to: CChar.self) { XML_Parse(parser, $0.baseAddress, Int32(b.count), 1) }
            }
            lastLine = Int(XML_GetCurrentLineNumber(parser))
            if let failure {
                throw FactorGraphError.malformedFile(path: path, line: failure.line, message: failure.message)
            }
            if status != XML_STATUS_OK {
                let reason = XML_ErrorString(XML_GetErrorCode(parser)).map { String(cString: $0) } ?? "unknown error"
                throw FactorGraphError.malformedFile(
                    path: path, line: lastLine, message: "not well-formed XML (\(reason))")
            }
        }

        private static func from(_ user: UnsafeMutableRawPointer?) -> Reader {
            // The user data is always this reader, set before parsing.
            Unmanaged<Reader>.fromOpaque(UnsafeRawPointer(user.unsafelyUnwrapped)).takeUnretainedValue()
        }

        private var line: Int { Int(XML_GetCurrentLineNumber(parser)) }

        private func start(_ element: String) {
            let tag = element.uppercased()
            open.append(tag)
            text.removeAll(keepingCapacity: true)
            if tag == "VARIABLE" { variable = VariableEntry(line: line) }
            if tag == "DEFINITION" || tag == "PROBABILITY" { definition = Definition(line: line) }
        }

        private func end() {
            let tag = open.popLast() ?? ""
            let value = String(decoding: text, as: UTF8.self).trimmed
            text.removeAll(keepingCapacity: true)
            switch tag {
            case "NAME" where variable != nil: variable?.name = value
            case "OUTCOME" where variable != nil: variable?.outcomes.append(value)
            case "VARIABLE":
                if let v = variable { variables.append(v) }
                variable = nil
            case "FOR" where definition != nil: definition?.child = value
            case "GIVEN" where definition != nil: definition?.given.append(value)
            case "TABLE" where definition != nil:
                var values: [Double] = []
                for token in value.split(whereSeparator: \.isWhitespace) {
                    guard let v = Double(token) else {
                        failure = failure ?? (line, "'\(token)' is not a probability")
                        XML_StopParser(parser, XML_FALSE)
                        return
                    }
                    values.append(v)
                }
                definition?.table = values
            case "DEFINITION", "PROBABILITY":
                if let d = definition { definitions.append(d) }
                definition = nil
            default: break
            }
        }
    }
}

extension String {
    /// Without leading and trailing white space.
    fileprivate var trimmed: String {
        var s = Substring(self)
        while s.first?.isWhitespace == true { s.removeFirst() }
        while s.last?.isWhitespace == true { s.removeLast() }
        return String(s)
    }
}
