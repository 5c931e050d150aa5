/// A guard in front of TOMLKit: toml++ 3.4 (which TOMLKit wraps) asserts, aborting the process (or, built
/// with NDEBUG, assumes the impossible), on two kinds of invalid TOML found by Fuzz/FuzzConfig
/// (docs/fuzzing.md): a table header whose key starts with a character that can start no key (`[%alerts]`,
/// `[[ %x]]`), and a `}` that closes an array (`a = [}`, `a = [1, }`). Both are refused here, with their
/// line, before toml++ sees the text. Strings and comments are skipped, and a `[` at the start of a line
/// inside a multi-line value is not taken for a header.
enum TOMLPreCheck {
    /// The 1-based line of the first such construct and the reason, or nil.
    static func problem(in text: String) -> (line: Int, reason: String)? {
        enum State { case normal, comment, basic, literal, multilineBasic, multilineLiteral }
        let s = Array(text.unicodeScalars)
        var state = State.normal
        var line = 1
        var atLineStart = true
        var inValue = false  // after `=`, until the line ends outside brackets
        var open: [Unicode.Scalar] = []  // brackets and braces open in a value, innermost last
        var i = 0
        func starts(_ seq: String, at k: Int) -> Bool {
            var k = k
            for u in seq.unicodeScalars {
                guard k < s.count, s[k] == u else { return false }
                k += 1
            }
            return true
        }
        while i < s.count {
            let c = s[i]
            if c == "\n" {
                line += 1
                atLineStart = true
                if state == .comment || state == .basic || state == .literal { state = .normal }
                if state == .normal && open.isEmpty { inValue = false }
                i += 1
                continue
            }
            switch state {
            case .comment:
                i += 1
            case .basic:
                if c == "\\" { i += 2 } else { if c == "\"" { state = .normal }; i += 1 }
            case .literal:
                if c == "'" { state = .normal }
                i += 1
            case .multilineBasic:
                if c == "\\" { i += 2 } else if starts("\"\"\"", at: i) { state = .normal; i += 3 } else { i += 1 }
            case .multilineLiteral:
                if starts("'''", at: i) { state = .normal; i += 3 } else { i += 1 }
            case .normal:
                if atLineStart && isHorizontalSpace(c) {
                    i += 1
                    continue
                }
                if atLineStart && c == "[" && !inValue {
                    // A table header: `[` or `[[`, spaces, then the first character of a key.
                    var k = i + 1
                    if k < s.count && s[k] == "[" { k += 1 }
                    while k < s.count && isHorizontalSpace(s[k]) { k += 1 }
                    if k < s.count, !startsKey(s[k]) {
                        return (line, "invalid table header: a key starts with a letter, a digit, '_', '-' or a quote")
                    }
                    // The rest of the header line is toml++'s to judge.
                    while i < s.count && s[i] != "\n" { i += 1 }
                    continue
                }
                atLineStart = false
                if c == "#" {
                    state = .comment
                } else if starts("\"\"\"", at: i) {
                    state = .multilineBasic
                    i += 2
                } else if starts("'''", at: i) {
                    state = .multilineLiteral
                    i += 2
                } else if c == "\"" {
                    state = .basic
                } else if c == "'" {
                    state = .literal
                } else if c == "=" {
                    inValue = true
                } else if inValue && (c == "[" || c == "{") {
                    open.append(c)
                } else if inValue && (c == "]" || c == "}"), let innermost = open.last {
                    guard (innermost == "[") == (c == "]") else {
                        return (line, "'\(c)' does not close the '\(innermost)' before it")
                    }
                    open.removeLast()
                }
                i += 1
            }
        }
        return nil
    }

    /// What toml++ skips as whitespace before a key: tab, space and the Unicode horizontal spaces.
    private static func isHorizontalSpace(_ c: Unicode.Scalar) -> Bool {
        c == " " || c == "\t" || (c.properties.isWhitespace && c != "\n" && c != "\r" && !(0x0A...0x0D).contains(c.value)
            && c.value != 0x85 && c.value != 0x2028 && c.value != 0x2029)
    }

    /// A bare-key character (A–Z, a–z, 0–9, `_`, `-`), a quote, or the `]` of an empty header (which toml++
    /// reports itself).
    private static func startsKey(_ c: Unicode.Scalar) -> Bool {
        switch c {
        case "A"..."Z", "a"..."z", "0"..."9", "_", "-", "\"", "'", "]": true
        default: false
        }
    }
}
