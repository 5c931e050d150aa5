import DNSWatchModel
import Foundation

/// A parsed fingerprint value, ready for indexing.
enum CompiledValue: Sendable {
    case name(NamePattern)
    case range(CIDR)
    case asn(Int)
}

/// An ordered collection of fingerprints from one or more TSV files (the shipped one and the user's).
/// Later entries win ties of equal specificity, so a user file can override a shipped entry.
public struct FingerprintSet: Sendable {
    /// The column header of the file format.
    public static let header = "provider\tkind\tvalue\tcategory\tsource"

    public private(set) var entries: [Fingerprint]
    /// Where the entries came from, in order, with their counts (for `dnswatch providers`).
    public private(set) var origins: [(origin: String, count: Int)]
    /// A stable short hash of the content (12 hex digits), recorded with classes derived from this set.
    public private(set) var version: String
    private(set) var compiled: [CompiledValue]

    /// An empty set.
    public init() {
        entries = []
        origins = []
        compiled = []
        version = FingerprintSet.hash([])
    }

    /// The fingerprints shipped inside the binary (data/fingerprints.tsv).
    public static func embedded() throws -> FingerprintSet {
        try FingerprintSet(tsv: String(decoding: PackageResources.fingerprints_tsv, as: UTF8.self), origin: "embedded")
    }

    /// Reads a fingerprint file. `origin` names it in errors (`origin:line: message`) and in ``origins``.
    /// Tab-separated columns `provider kind value category source`; `#` starts a comment line; blank lines are
    /// ignored; the header line is optional.
    public init(tsv: String, origin: String) throws {
        var entries: [Fingerprint] = []
        var compiled: [CompiledValue] = []
        var lineNumber = 0
        for rawLine in tsv.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            lineNumber += 1
            var line = Substring(rawLine)
            if line.hasSuffix("\r") { line = line.dropLast() }
            let trimmed = String(line).trimmingBlanks
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            if entries.isEmpty, trimmed.lowercased() == FingerprintSet.header { continue }
            do {
                let (fp, value) = try FingerprintSet.parseLine(line)
                entries.append(fp)
                compiled.append(value)
            } catch let error as PatternError {
                throw FingerprintError(origin: origin, line: lineNumber, message: error.message)
            }
        }
        self.entries = entries
        self.compiled = compiled
        self.origins = [(origin, entries.count)]
        self.version = FingerprintSet.hash(entries)
    }

    /// This set followed by `other` (whose entries win ties).
    public func merging(_ other: FingerprintSet) -> FingerprintSet {
        var merged = self
        merged.entries += other.entries
        merged.compiled += other.compiled
        merged.origins += other.origins
        merged.version = FingerprintSet.hash(merged.entries)
        return merged
    }

    /// Entry counts by category.
    public var countsByCategory: [FingerprintCategory: Int] {
        entries.reduce(into: [:]) { $0[$1.category, default: 0] += 1 }
    }

    // MARK: parsing

    private static func parseLine(_ line: Substring) throws -> (Fingerprint, CompiledValue) {
        let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
            .map { String($0).trimmingBlanks }
        guard fields.count == 5 else {
            throw PatternError("expected 5 tab-separated columns (\(header.replacingOccurrences(of: "\t", with: " "))), found \(fields.count)")
        }
        let (provider, kindText, valueText, categoryText, source) = (fields[0], fields[1], fields[2], fields[3], fields[4])
        guard !provider.isEmpty else { throw PatternError("empty provider") }
        guard let kind = FingerprintKind(rawValue: kindText.lowercased()) else {
            throw PatternError("unknown kind '\(kindText)' (ns, cname, ip, cidr, asn)")
        }
        guard let category = FingerprintCategory(rawValue: categoryText.lowercased()) else {
            throw PatternError("unknown category '\(categoryText)' (parking, marketplace, placeholder, sinkhole, seizure, regdefault)")
        }
        guard !source.isEmpty else { throw PatternError("empty source (every entry names where it comes from)") }
        if category == .regdefault && kind != .ns {
            throw PatternError("category regdefault applies to ns entries only")
        }
        let (value, compiled) = try parseValue(kind, valueText)
        return (Fingerprint(provider: provider, kind: kind, value: value, category: category, source: source), compiled)
    }

    private static func parseValue(_ kind: FingerprintKind, _ text: String) throws -> (String, CompiledValue) {
        switch kind {
        case .ns, .cname:
            switch NamePattern.parse(text) {
            case .success(let p): return (p.text, .name(p))
            case .failure(let e): throw e
            }
        case .ip:
            guard let a = IPAddress(text) else { throw PatternError("not an IP address: '\(text)'") }
            return (a.description, .range(CIDR(network: a, prefixLength: a.bytes.count * 8)))
        case .cidr:
            guard let c = CIDR(text) else { throw PatternError("not a CIDR block: '\(text)'") }
            let given = text.split(separator: "/").first.map(String.init) ?? text
            guard IPAddress(given) == c.network else {
                throw PatternError("'\(text)' has host bits set (did you mean \(c)?)")
            }
            return (c.description, .range(c))
        case .asn:
            var digits = Substring(text)
            if digits.lowercased().hasPrefix("as") { digits = digits.dropFirst(2) }
            guard !digits.isEmpty, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber),
                  let n = Int(digits), n > 0, n <= Int(UInt32.max)
            else { throw PatternError("not an AS number: '\(text)'") }
            return ("AS\(n)", .asn(n))
        }
    }

    /// FNV-1a 64 over the canonical rows: independent of process, platform and file formatting.
    private static func hash(_ entries: [Fingerprint]) -> String {
        stableHash(entries.map { "\($0.provider)\t\($0.kind.rawValue)\t\($0.value)\t\($0.category.rawValue)\t\($0.source)\n" })
    }

    /// FNV-1a over the lines, as 12 hex digits: the same on every run and machine.
    static func stableHash(_ lines: [String]) -> String {
        var h = FNV1a()
        for line in lines { h.mix(line) }
        return stableHash(digest: h)
    }

    /// ``stableHash(_:)`` of lines fed to `digest` one by one (without holding them).
    static func stableHash(digest: FNV1a) -> String {
        let hex = String(digest.value, radix: 16)
        return String((String(repeating: "0", count: 16 - hex.count) + hex).prefix(12))
    }
}
