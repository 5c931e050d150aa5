import DNSWatchModel
import Foundation

/// A name pattern for name servers and CNAME targets, matched case-insensitively against names without the
/// trailing dot:
/// - `ns1.sedoparking.com` — exactly that name;
/// - `*.sedoparking.com` — any name strictly below `sedoparking.com` (one or more labels);
/// - `ns*.parkingcrew.net`, `*ns*.above.com` — `*` inside a label stands for any characters within that one label.
/// The last label must be literal (no `*`), so that every pattern can be indexed by its literal suffix.
struct NamePattern: Sendable, Hashable {
    /// The normalised text.
    let text: String
    /// The pattern began with the label `*`: the name must have at least one more label than `labels`.
    let anyPrefix: Bool
    /// The remaining labels (each possibly with `*`).
    let labels: [String]
    /// The trailing labels without `*`, joined: the index key.
    let literalSuffix: String
    /// Higher is more specific: exact names beat patterns, then more literal characters.
    let specificity: Int

    var isExact: Bool { !anyPrefix && !text.contains("*") }

    /// Parses and normalises a pattern; the error message says what is wrong.
    static func parse(_ raw: String) -> Result<NamePattern, PatternError> {
        var s = raw.trimmingBlanks.lowercased()
        if s.hasSuffix(".") { s.removeLast() }
        guard !s.isEmpty else { return .failure(PatternError("empty name pattern")) }
        guard !s.contains(where: { $0.isWhitespace || $0 == "/" || $0 == "%" }) else {
            return .failure(PatternError("invalid character in name pattern '\(raw)'"))
        }
        var parts = s.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard !parts.contains(where: \.isEmpty) else {
            return .failure(PatternError("empty label in name pattern '\(raw)'"))
        }
        guard !parts.contains(where: { $0.count > 63 }), s.count <= 253 else {
            return .failure(PatternError("name pattern '\(raw)' is too long"))
        }
        let anyPrefix = parts.count > 1 && parts[0] == "*"
        if anyPrefix { parts.removeFirst() }
        guard let last = parts.last, !last.contains("*") else {
            return .failure(PatternError("the last label of '\(raw)' must be literal (no '*')"))
        }
        var literal: [String] = []
        for label in parts.reversed() {
            guard !label.contains("*") else { break }
            literal.insert(label, at: 0)
        }
        let literalChars = s.filter { $0 != "*" }.count
        let exact = !anyPrefix && !s.contains("*")
        return .success(NamePattern(
            text: s, anyPrefix: anyPrefix, labels: parts, literalSuffix: literal.joined(separator: "."),
            specificity: exact ? 1000 + literalChars : literalChars
        ))
    }

    /// Whether `nameLabels` (a normalised name split at dots) matches.
    func matches(_ nameLabels: [Substring]) -> Bool {
        if anyPrefix {
            guard nameLabels.count > labels.count else { return false }
        } else {
            guard nameLabels.count == labels.count else { return false }
        }
        let offset = nameLabels.count - labels.count
        for (i, pattern) in labels.enumerated() {
            guard NamePattern.glob(pattern, nameLabels[offset + i]) else { return false }
        }
        return true
    }

    /// `*` matches any run of characters (within one label).
    static func glob(_ pattern: String, _ label: Substring) -> Bool {
        guard pattern.contains("*") else { return pattern == label }
        let pieces = pattern.split(separator: "*", omittingEmptySubsequences: false)
        var rest = label[...]
        guard let first = pieces.first, rest.hasPrefix(first) else { return false }
        rest = rest.dropFirst(first.count)
        guard let lastPiece = pieces.last else { return true }
        for piece in pieces.dropFirst().dropLast() where !piece.isEmpty {
            guard let r = rest.range(of: piece) else { return false }
            rest = rest[r.upperBound...]
        }
        return rest.count >= lastPiece.count && rest.hasSuffix(lastPiece)
    }
}

struct PatternError: Error, Sendable {
    let message: String
    init(_ message: String) { self.message = message }
}

/// Name patterns indexed by literal suffix: a lookup costs one dictionary probe per label of the name, plus the
/// patterns filed under those suffixes — independent of how many patterns there are in total.
struct NameIndex: Sendable {
    private var exact: [String: [Int]] = [:]
    private var bySuffix: [String: [(pattern: NamePattern, id: Int)]] = [:]

    var isEmpty: Bool { exact.isEmpty && bySuffix.isEmpty }

    mutating func insert(_ pattern: NamePattern, id: Int) {
        if pattern.isExact {
            exact[pattern.text, default: []].append(id)
        } else {
            bySuffix[pattern.literalSuffix, default: []].append((pattern, id))
        }
    }

    /// Every (id, specificity) whose pattern matches the normalised name.
    func matches(_ name: String) -> [(id: Int, specificity: Int)] {
        var out: [(id: Int, specificity: Int)] = []
        if let ids = exact[name] {
            let spec = 1000 + name.count
            out.append(contentsOf: ids.map { ($0, spec) })
        }
        guard !bySuffix.isEmpty else { return out }
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        var suffix = Substring(name)
        var remaining = labels.count
        while remaining > 0 {
            if let candidates = bySuffix[String(suffix)] {
                for c in candidates where c.pattern.matches(labels) {
                    out.append((c.id, c.pattern.specificity))
                }
            }
            remaining -= 1
            guard let dot = suffix.firstIndex(of: ".") else { break }
            suffix = suffix[suffix.index(after: dot)...]
        }
        return out
    }
}

/// Lower case, no trailing dot, no surrounding space.
func normalizedName(_ raw: String) -> String {
    var s = raw.trimmingBlanks.lowercased()
    while s.hasSuffix(".") { s.removeLast() }
    return s
}
