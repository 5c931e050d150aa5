import DNSWatchModel

/// Reads a MISP `list.json` as a stream: the file is read in 64 KB chunks and each string of `"list"` is
/// handed over as soon as it is read, so that compiling a list takes memory for the index it builds, not for
/// the file and a tree of it (a 200 MB list took 4 GB through `JSONDecoder`).
///
/// MISP writes the keys sorted, `"list"` before `"type"`, and what an entry means depends on the type: the
/// compiler reads the file twice, once for the fields (``read(path:entry:)`` without `entry`) and once for the
/// entries; the digest of the bytes says whether the file changed in between.
///
/// The shape is strict JSON (RFC 8259): one object; `name`, `description`, `type` strings; `version` an integer
/// or a string; `matching_attributes` and `list` arrays of strings; any other key holds any value; `null` for an
/// optional field is its absence. Refused with the byte offset: anything else, a duplicate key, invalid UTF-8,
/// a lone surrogate, nesting deeper than 512, a string longer than 1 MB.
struct WarningListReader {
    struct Fields {
        var name: String?
        var description: String?
        var version: String?
        var type: String?
        var matchingAttributes: [String]?
        /// The number of strings in `"list"`.
        var entries = 0
    }

    struct Failure: Error {
        let message: String
    }

    static let maxString = 1 << 20
    static let maxDepth = 512

    /// Reads the file, calling `entry` with every string of `"list"` in order (if given); returns the fields
    /// and the FNV-1a digest of every byte read.
    static func read(path: String, entry: ((String) throws -> Void)?) throws -> (fields: Fields, digest: UInt64) {
        let source = try RegularFile.Reader(path: path)
        var reader = WarningListReader(next: { try source.read() })
        let fields = try reader.document(entry: entry)
        return (fields, reader.digest.value)
    }

    /// Reads text held in memory (tests and the fuzz target).
    static func read(bytes: [UInt8], entry: ((String) throws -> Void)?) throws -> Fields {
        var given = false
        var reader = WarningListReader(next: {
            if given { return [] }
            given = true
            return bytes
        })
        return try reader.document(entry: entry)
    }

    private let next: () throws -> [UInt8]
    private var chunk: [UInt8] = []
    private var at = 0
    /// Bytes before `chunk`: the offset of `chunk[0]` in the file.
    private var consumed = 0
    private var ended = false
    private(set) var digest = FNV1a()

    private init(next: @escaping () throws -> [UInt8]) {
        self.next = next
    }

    // MARK: bytes

    private var offset: Int { consumed + at }

    private func failure(_ what: String) -> Failure { Failure(message: "byte \(offset): \(what)") }

    /// The next byte without taking it; nil at the end.
    private mutating func peek() throws -> UInt8? {
        if at < chunk.count { return chunk[at] }
        guard !ended else { return nil }
        consumed += chunk.count
        chunk = try next()
        at = 0
        for b in chunk { digest.mix(b) }
        if chunk.isEmpty { ended = true; return nil }
        return chunk[0]
    }

    private mutating func take() throws -> UInt8 {
        guard let b = try peek() else { throw failure("unexpected end of the file") }
        at += 1
        return b
    }

    private mutating func skipSpace() throws {
        while let b = try peek(), b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D { at += 1 }
    }

    private mutating func expect(_ byte: UInt8, _ what: String) throws {
        try skipSpace()
        guard try take() == byte else { at -= 1; throw failure("expected \(what)") }
    }

    // MARK: the document

    private mutating func document(entry: ((String) throws -> Void)?) throws -> Fields {
        var fields = Fields()
        var seen = Set<String>()
        var sawList = false
        try expect(UInt8(ascii: "{"), "'{' (a warning list is one JSON object)")
        try skipSpace()
        if try peek() == UInt8(ascii: "}") {
            at += 1
        } else {
            while true {
                try skipSpace()
                guard try peek() == UInt8(ascii: "\"") else { throw failure("expected a key") }
                let key = try string()
                guard seen.insert(key).inserted else { throw failure("duplicate key \"\(VisibleText.escape(key))\"") }
                try expect(UInt8(ascii: ":"), "':'")
                try skipSpace()
                switch key {
                case "name": fields.name = try optionalString(key)
                case "description": fields.description = try optionalString(key)
                case "type": fields.type = try optionalString(key)
                case "version": fields.version = try version()
                case "matching_attributes":
                    if try literalNull() { break }
                    var attributes: [String] = []
                    try strings(key) { attributes.append($0) }
                    fields.matchingAttributes = attributes
                case "list":
                    sawList = true
                    try strings(key) { s in
                        fields.entries += 1
                        try entry?(s)
                    }
                default:
                    try skipValue()
                }
                try skipSpace()
                let b = try take()
                if b == UInt8(ascii: "}") { break }
                guard b == UInt8(ascii: ",") else { at -= 1; throw failure("expected ',' or '}'") }
            }
        }
        try skipSpace()
        guard try peek() == nil else { throw failure("text after the object") }
        guard sawList else { throw Failure(message: "no \"list\"") }
        return fields
    }

    private mutating func literalNull() throws -> Bool {
        guard try peek() == UInt8(ascii: "n") else { return false }
        try word("null")
        return true
    }

    private mutating func optionalString(_ key: String) throws -> String? {
        if try literalNull() { return nil }
        guard try peek() == UInt8(ascii: "\"") else { throw failure("\"\(key)\" must be a string") }
        return try string()
    }

    /// MISP writes `version` as a number (20251223); some lists as a string.
    private mutating func version() throws -> String? {
        if try literalNull() { return nil }
        guard let b = try peek() else { throw failure("unexpected end of the file") }
        if b == UInt8(ascii: "\"") { return try string() }
        let text = try number()
        guard let n = Int64(text) else { throw failure("\"version\" must be an integer or a string") }
        return String(n)
    }

    /// An array of strings, each handed to `body`.
    private mutating func strings(_ key: String, _ body: (String) throws -> Void) throws {
        guard try take() == UInt8(ascii: "[") else { at -= 1; throw failure("\"\(key)\" must be an array of strings") }
        try skipSpace()
        if try peek() == UInt8(ascii: "]") { at += 1; return }
        while true {
            try skipSpace()
            guard try peek() == UInt8(ascii: "\"") else { throw failure("\"\(key)\" must be an array of strings") }
            try body(try string())
            try skipSpace()
            let b = try take()
            if b == UInt8(ascii: "]") { return }
            guard b == UInt8(ascii: ",") else { at -= 1; throw failure("expected ',' or ']'") }
        }
    }

    private mutating func word(_ w: StaticString) throws {
        let bytes = UnsafeBufferPointer(start: w.utf8Start, count: w.utf8CodeUnitCount)
        for expected in bytes {
            guard try take() == expected else { at -= 1; throw failure("expected \(w)") }
        }
    }

    /// A JSON number's text (RFC 8259 grammar).
    private mutating func number() throws -> String {
        var text: [UInt8] = []
        func digits(_ r: inout WarningListReader, _ text: inout [UInt8]) throws -> Int {
            var n = 0
            while let b = try r.peek(), b >= 0x30, b <= 0x39 {
                r.at += 1
                text.append(b)
                n += 1
                guard text.count <= 64 else { throw r.failure("a number too long") }
            }
            return n
        }
        if try peek() == UInt8(ascii: "-") { at += 1; text.append(UInt8(ascii: "-")) }
        let leading = try peek()
        guard try digits(&self, &text) > 0 else { throw failure("expected a value") }
        if leading == UInt8(ascii: "0"), text.count - (text.first == UInt8(ascii: "-") ? 1 : 0) > 1 {
            throw failure("a number with a leading zero")
        }
        if try peek() == UInt8(ascii: ".") {
            at += 1
            text.append(UInt8(ascii: "."))
            guard try digits(&self, &text) > 0 else { throw failure("a bad number") }
        }
        if let e = try peek(), e == UInt8(ascii: "e") || e == UInt8(ascii: "E") {
            at += 1
            text.append(e)
            if let s = try peek(), s == UInt8(ascii: "+") || s == UInt8(ascii: "-") { at += 1; text.append(s) }
            guard try digits(&self, &text) > 0 else { throw failure("a bad number") }
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// Any JSON value, read and dropped; nesting kept on a small stack, not the call stack.
    private mutating func skipValue() throws {
        var open: [UInt8] = []  // the closing bracket of each open container
        var expectValue = true
        while true {
            try skipSpace()
            guard let b = try peek() else { throw failure("unexpected end of the file") }
            if expectValue {
                switch b {
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    at += 1
                    open.append(b == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]"))
                    guard open.count <= WarningListReader.maxDepth else { throw failure("nesting deeper than \(WarningListReader.maxDepth)") }
                    try skipSpace()
                    if try peek() == open.last {  // empty container
                        at += 1
                        open.removeLast()
                        expectValue = false
                    } else if b == UInt8(ascii: "{") {
                        try key()
                    }
                    if open.isEmpty && !expectValue { return }
                    continue
                case UInt8(ascii: "\""): _ = try string()
                case UInt8(ascii: "t"): try word("true")
                case UInt8(ascii: "f"): try word("false")
                case UInt8(ascii: "n"): try word("null")
                default: _ = try number()
                }
                expectValue = false
                if open.isEmpty { return }
            } else {
                at += 1
                if b == open.last {
                    open.removeLast()
                    if open.isEmpty { return }
                } else if b == UInt8(ascii: ",") {
                    expectValue = true
                    if open.last == UInt8(ascii: "}") { try key() }
                } else {
                    at -= 1
                    throw failure("expected ',' or a closing bracket")
                }
            }
        }
    }

    /// Inside an object being skipped: `"key":`, leaving a value expected.
    private mutating func key() throws {
        try skipSpace()
        guard try peek() == UInt8(ascii: "\"") else { throw failure("expected a key") }
        _ = try string()
        try expect(UInt8(ascii: ":"), "':'")
    }

    /// A JSON string (at its opening quote), its escapes decoded; UTF-8 checked.
    private mutating func string() throws -> String {
        at += 1  // the opening quote
        var bytes: [UInt8] = []
        while true {
            let b = try take()
            switch b {
            case UInt8(ascii: "\""):
                guard let s = String(validating: bytes, as: UTF8.self) else { throw failure("a string that is not UTF-8") }
                return s
            case UInt8(ascii: "\\"):
                let e = try take()
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): bytes.append(e)
                case UInt8(ascii: "b"): bytes.append(0x08)
                case UInt8(ascii: "f"): bytes.append(0x0C)
                case UInt8(ascii: "n"): bytes.append(0x0A)
                case UInt8(ascii: "r"): bytes.append(0x0D)
                case UInt8(ascii: "t"): bytes.append(0x09)
                case UInt8(ascii: "u"):
                    var v = try hex4()
                    if (0xD800...0xDBFF).contains(v) {
                        guard try take() == UInt8(ascii: "\\"), try take() == UInt8(ascii: "u") else { throw failure("a lone surrogate") }
                        let low = try hex4()
                        guard (0xDC00...0xDFFF).contains(low) else { throw failure("a lone surrogate") }
                        v = 0x10000 + ((v - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00...0xDFFF).contains(v) {
                        throw failure("a lone surrogate")
                    }
                    guard let scalar = Unicode.Scalar(v) else { throw failure("a bad \\u escape") }
                    bytes.append(contentsOf: Array(String(Character(scalar)).utf8))
                default:
                    at -= 1
                    throw failure("a bad escape in a string")
                }
            default:
                guard b >= 0x20 else { at -= 1; throw failure("a control character in a string") }
                bytes.append(b)
            }
            guard bytes.count <= WarningListReader.maxString else { throw failure("a string longer than 1 MB") }
        }
    }

    private mutating func hex4() throws -> UInt32 {
        var v: UInt32 = 0
        for _ in 0..<4 {
            let b = try take()
            let d: UInt32
            switch b {
            case 0x30...0x39: d = UInt32(b - 0x30)
            case 0x41...0x46: d = UInt32(b - 0x41 + 10)
            case 0x61...0x66: d = UInt32(b - 0x61 + 10)
            default: at -= 1; throw failure("a bad \\u escape")
            }
            v = v * 16 + d
        }
        return v
    }
}
