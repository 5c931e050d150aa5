import Foundation

/// Why a string is not a usable domain name.
public enum DomainNameError: Error, Sendable, Equatable, CustomStringConvertible {
    case empty
    case emptyLabel
    case labelTooLong(String)
    case nameTooLong(Int)
    case wildcard
    case badCharacter(Character)
    case punycode(String)
    /// An `xn--` label that is not the A-label of a U-label (RFC 5890): the label and why.
    case badALabel(String, reason: String)
    /// A code point no domain name holds (`DomainName.disallowed`): a control, format (bidirectional
    /// override, zero-width, byte-order mark), separator, private-use, unassigned or replacement character.
    case disallowedCodePoint(UInt32)

    /// The reason, input quoted with `VisibleText` (no raw control bytes).
    public var description: String {
        switch self {
        case .empty: "empty name"
        case .emptyLabel: "empty label"
        case .labelTooLong(let l): "label longer than 63 octets (\(VisibleText.escape(l.prefix(20)))…)"
        case .nameTooLong(let n): "name longer than 253 octets (\(n))"
        case .wildcard: "wildcard '*' is not a domain name"
        case .badCharacter(let c): "bad character '\(VisibleText.escape(String(c)))'"
        case .punycode(let l): "cannot encode IDN label '\(VisibleText.escape(l))'"
        case .badALabel(let l, let reason): "invalid IDN label '\(VisibleText.escape(l))': \(reason)"
        case .disallowedCodePoint(let v): "\(DomainName.codePointText(v)) is not allowed in a domain name"
        }
    }
}

/// A normalised domain name: lower case, no trailing dot, IDN labels as A-labels (punycode).
public struct DomainName: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    /// Presentation form without the trailing dot, e.g. `xn--bcher-kva.example`.
    public let value: String

    public init(_ raw: String) throws(DomainNameError) {
        var s: String
        if raw.utf8.allSatisfy({ $0 < 0x80 }) {
            // ASCII, as nearly every name is: the same mapping without Foundation's Unicode machinery (no
            // full-width dot or decomposed character can occur; a bulk import reads millions of names).
            var bytes = raw.utf8[...]
            while let f = bytes.first, f == 0x20 || f == 0x09 { bytes = bytes.dropFirst() }
            while let l = bytes.last, l == 0x20 || l == 0x09 { bytes = bytes.dropLast() }
            if bytes.last == UInt8(ascii: ".") { bytes = bytes.dropLast() }
            guard !bytes.isEmpty else { throw .empty }
            s = String(decoding: bytes.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }, as: UTF8.self)
        } else {
            s = raw.trimmingBlanks
            if s.hasSuffix(".") { s.removeLast() }
            guard !s.isEmpty else { throw .empty }
            // IDNA-style mapping: full-width dots, NFC, lower case.
            s = s.replacingOccurrences(of: "\u{3002}", with: ".")
                .replacingOccurrences(of: "\u{FF0E}", with: ".")
                .replacingOccurrences(of: "\u{FF61}", with: ".")
                .precomposedStringWithCanonicalMapping
                .lowercased()
        }
        var labels: [String] = []
        for sub in s.split(separator: ".", omittingEmptySubsequences: false) {
            let label = String(sub)
            guard !label.isEmpty else { throw .emptyLabel }
            if label.utf8.contains(UInt8(ascii: "*")) { throw .wildcard }
            let ascii: String
            if label.unicodeScalars.allSatisfy(\.isASCII) {
                ascii = label
            } else {
                if let bad = DomainName.disallowed(in: label) { throw .disallowedCodePoint(bad.value) }
                // Every scalar of a U-label gives at least one octet of its A-label: a longer one is too long
                // (and is not handed to the encoder, whose work grows with the square of the length).
                guard label.unicodeScalars.count <= 63 else { throw .labelTooLong(label) }
                guard let encoded = Punycode.encode(label) else { throw .punycode(label) }
                ascii = "xn--" + encoded
            }
            guard ascii.utf8.count <= 63 else { throw .labelTooLong(ascii) }
            if let bad = ascii.utf8.first(where: { !DomainName.allowed($0) }) { throw .badCharacter(Character(Unicode.Scalar(bad))) }
            if ascii.hasPrefix("xn--"), let why = Punycode.aLabelProblem(ascii) { throw .badALabel(ascii, reason: why) }
            labels.append(ascii)
        }
        let joined = labels.joined(separator: ".")
        guard joined.utf8.count <= 253 else { throw .nameTooLong(joined.utf8.count) }
        value = joined
    }

    /// Letters, digits, hyphen; underscore too (service labels such as `_dmarc` occur in real data).
    /// (A label here is ASCII: an A-label, or a label that was ASCII already.)
    private static func allowed(_ a: UInt8) -> Bool {
        (a >= 97 && a <= 122) || (a >= 48 && a <= 57) || a == 45 || a == 95
    }

    /// The first code point of a U-label that no domain name holds, or nil. IDNA2008 (RFC 5892) and UTS 46
    /// disallow them all: controls (Cc), format characters (Cf: bidirectional marks, overrides and
    /// isolates such as U+202E, zero-width spaces, U+FEFF), separators (Zs, Zl, Zp), private use (Co),
    /// surrogates, unassigned code points (Cn), noncharacters and U+FFFD, the replacement character. The
    /// joiners U+200C and U+200D are allowed only right after a virama (the CONTEXTJ rule of RFC 5892
    /// Appendix A.1 and A.2, without its joining-type alternative), as Indic and Persian names need them.
    /// One rule for every name dnswatch reads (watchlists, feeds, triage, COF, the API): they all go
    /// through `DomainName`, and an `xn--` label is held to it too (`Punycode.aLabelProblem`).
    public static func disallowed(in label: some StringProtocol) -> Unicode.Scalar? {
        var previous: Unicode.Scalar?
        for scalar in label.unicodeScalars {
            defer { previous = scalar }
            guard !scalar.isASCII else { continue }
            if scalar.value == 0x200C || scalar.value == 0x200D {
                if previous?.properties.canonicalCombiningClass == .virama { continue }
                return scalar
            }
            if scalar.value == 0xFFFD || scalar.properties.isNoncharacterCodePoint { return scalar }
            switch scalar.properties.generalCategory {
            case .control, .format, .spaceSeparator, .lineSeparator, .paragraphSeparator, .privateUse, .surrogate, .unassigned:
                return scalar
            default:
                continue
            }
        }
        return nil
    }

    /// `U+202E (RIGHT-TO-LEFT OVERRIDE)`: a code point named, never written raw.
    public static func codePointText(_ value: UInt32) -> String {
        let hex = String(value, radix: 16, uppercase: true)
        let code = "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
        guard let scalar = Unicode.Scalar(value), let name = scalar.properties.name ?? scalar.properties.nameAlias else { return code }
        return "\(code) (\(name))"
    }

    /// Absolute form with the trailing dot, as passive-DNS output writes names.
    public var absolute: String { value + "." }
    public var description: String { value }
    public var labels: [Substring] { value.split(separator: ".") }

    public static func < (l: DomainName, r: DomainName) -> Bool { l.value < r.value }

    public init(from decoder: any Decoder) throws {
        let s = try decoder.singleValueContainer().decode(String.self)
        self = try DomainName(s)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(value)
    }
}

/// RFC 3492 Punycode (the part of IDNA that turns a U-label into an A-label's tail, and back).
public enum Punycode {
    private static let base = 36, tMin = 1, tMax = 26, skew = 38, damp = 700
    private static let initialBias = 72, initialN = 128

    /// Why an ASCII label starting `xn--` is not an A-label, or nil: its tail must decode (RFC 3492) to a
    /// non-empty U-label holding a non-ASCII character, in normal form (NFC, lower case), without dots,
    /// spaces or control characters, that encodes back to the same tail.
    public static func aLabelProblem(_ label: String) -> String? {
        let tail = String(label.dropFirst(4))
        guard !tail.isEmpty else { return "nothing after 'xn--'" }
        guard let u = decode(tail) else { return "not valid punycode" }
        guard u.unicodeScalars.contains(where: { !$0.isASCII }) else { return "punycode of an ASCII-only label" }
        guard u.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0 != "." && !(0x7F...0x9F).contains($0.value) }) else {
            return "decodes to a dot, a space or a control character"
        }
        if let bad = DomainName.disallowed(in: u) { return "decodes to \(DomainName.codePointText(bad.value)), not allowed in a domain name" }
        guard u == u.precomposedStringWithCanonicalMapping.lowercased() else { return "decodes to a name not in normal form" }
        guard encode(u) == tail else { return "not the canonical punycode of its label" }
        return nil
    }

    /// Decodes the punycode `input` (an A-label without `xn--`) into a U-label; nil when it is not valid
    /// RFC 3492 punycode (a non-basic or bad digit, a truncated number, an overflow, or a code point past
    /// U+10FFFF or in the surrogate range).
    public static func decode(_ input: String) -> String? {
        let bytes = Array(input.utf8)
        guard bytes.allSatisfy({ $0 < 0x80 }) else { return nil }
        var output: [Int] = []
        var pos = 0
        if let delimiter = bytes.lastIndex(of: UInt8(ascii: "-")) {
            output = bytes[..<delimiter].map(Int.init)
            pos = delimiter + 1
        }
        var n = initialN, i = 0, bias = initialBias
        while pos < bytes.count {
            let oldI = i
            var w = 1
            var k = base
            while true {
                guard pos < bytes.count, let d = digitValue(bytes[pos]) else { return nil }
                pos += 1
                let (dw, o1) = d.multipliedReportingOverflow(by: w)
                let (sum, o2) = i.addingReportingOverflow(dw)
                guard !o1, !o2 else { return nil }
                i = sum
                let t = k <= bias ? tMin : (k >= bias + tMax ? tMax : k - bias)
                if d < t { break }
                let (nw, o3) = w.multipliedReportingOverflow(by: base - t)
                guard !o3 else { return nil }
                w = nw
                k += base
            }
            let count = output.count + 1
            bias = adapt(i - oldI, count, oldI == 0)
            let (next, o4) = n.addingReportingOverflow(i / count)
            guard !o4, next <= 0x10FFFF, !(0xD800...0xDFFF).contains(next) else { return nil }
            n = next
            i %= count
            output.insert(n, at: i)
            i += 1
        }
        var scalars = String.UnicodeScalarView()
        for c in output {
            guard let scalar = Unicode.Scalar(UInt32(c)) else { return nil }
            scalars.append(scalar)
        }
        return String(scalars)
    }

    /// The value of a punycode digit: a–z (either case) 0–25, 0–9 26–35.
    private static func digitValue(_ c: UInt8) -> Int? {
        switch c {
        case UInt8(ascii: "a")...UInt8(ascii: "z"): Int(c - UInt8(ascii: "a"))
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): Int(c - UInt8(ascii: "A"))
        case UInt8(ascii: "0")...UInt8(ascii: "9"): Int(c - UInt8(ascii: "0")) + 26
        default: nil
        }
    }

    public static func encode(_ input: String) -> String? {
        let scalars = input.unicodeScalars.map { Int($0.value) }
        var output = scalars.filter { $0 < 0x80 }.map { Character(Unicode.Scalar(UInt8($0))) }
        let basicCount = output.count
        var handled = basicCount
        if basicCount > 0 { output.append("-") }
        var n = initialN, delta = 0, bias = initialBias
        while handled < scalars.count {
            guard let m = scalars.filter({ $0 >= n }).min() else { return nil }
            let (mul, o1) = (m - n).multipliedReportingOverflow(by: handled + 1)
            guard !o1 else { return nil }
            delta += mul
            n = m
            for c in scalars {
                if c < n { delta += 1 }
                if c == n {
                    var q = delta
                    var k = base
                    while true {
                        let t = k <= bias ? tMin : (k >= bias + tMax ? tMax : k - bias)
                        if q < t { break }
                        output.append(digit(t + (q - t) % (base - t)))
                        q = (q - t) / (base - t)
                        k += base
                    }
                    output.append(digit(q))
                    bias = adapt(delta, handled + 1, handled == basicCount)
                    delta = 0
                    handled += 1
                }
            }
            delta += 1
            n += 1
        }
        return String(output)
    }

    private static func digit(_ d: Int) -> Character {
        Character(Unicode.Scalar(UInt8(d < 26 ? d + 97 : d + 22)))
    }

    private static func adapt(_ delta: Int, _ numPoints: Int, _ first: Bool) -> Int {
        var d = first ? delta / damp : delta / 2
        d += d / numPoints
        var k = 0
        while d > ((base - tMin) * tMax) / 2 {
            d /= base - tMin
            k += base
        }
        return k + (base - tMin + 1) * d / (d + skew)
    }
}
