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

    public var description: String {
        switch self {
        case .empty: "empty name"
        case .emptyLabel: "empty label"
        case .labelTooLong(let l): "label longer than 63 octets (\(l.prefix(20))…)"
        case .nameTooLong(let n): "name longer than 253 octets (\(n))"
        case .wildcard: "wildcard '*' is not a domain name"
        case .badCharacter(let c): "bad character '\(c)'"
        case .punycode(let l): "cannot encode IDN label '\(l)'"
        }
    }
}

/// A normalised domain name: lower case, no trailing dot, IDN labels as A-labels (punycode).
public struct DomainName: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    /// Presentation form without the trailing dot, e.g. `xn--bcher-kva.example`.
    public let value: String

    public init(_ raw: String) throws(DomainNameError) {
        var s = raw.trimmingCharacters(in: .whitespaces)
        if s.hasSuffix(".") { s.removeLast() }
        guard !s.isEmpty else { throw .empty }
        // IDNA-style mapping: full-width dots, NFC, lower case.
        s = s.replacingOccurrences(of: "\u{3002}", with: ".")
            .replacingOccurrences(of: "\u{FF0E}", with: ".")
            .replacingOccurrences(of: "\u{FF61}", with: ".")
            .precomposedStringWithCanonicalMapping
            .lowercased()
        var labels: [String] = []
        for sub in s.split(separator: ".", omittingEmptySubsequences: false) {
            let label = String(sub)
            guard !label.isEmpty else { throw .emptyLabel }
            if label.contains("*") { throw .wildcard }
            let ascii: String
            if label.unicodeScalars.allSatisfy(\.isASCII) {
                ascii = label
            } else {
                guard let encoded = Punycode.encode(label) else { throw .punycode(label) }
                ascii = "xn--" + encoded
            }
            guard ascii.utf8.count <= 63 else { throw .labelTooLong(ascii) }
            for ch in ascii where !DomainName.allowed(ch) { throw .badCharacter(ch) }
            labels.append(ascii)
        }
        let joined = labels.joined(separator: ".")
        guard joined.utf8.count <= 253 else { throw .nameTooLong(joined.utf8.count) }
        value = joined
    }

    /// Letters, digits, hyphen; underscore too (service labels such as `_dmarc` occur in real data).
    private static func allowed(_ ch: Character) -> Bool {
        guard let a = ch.asciiValue else { return false }
        return (a >= 97 && a <= 122) || (a >= 48 && a <= 57) || a == 45 || a == 95
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

/// RFC 3492 Punycode encoder (the part of IDNA that turns a U-label into an A-label's tail).
public enum Punycode {
    private static let base = 36, tMin = 1, tMax = 26, skew = 38, damp = 700
    private static let initialBias = 72, initialN = 128

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
