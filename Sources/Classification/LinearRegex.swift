import DNSWatchModel

/// The regular expressions of MISP `regex` warning lists, matched in time linear in the text: the pattern is
/// compiled to a Thompson NFA (a program of at most ``maxProgram`` instructions) and run as a Pike VM, which
/// keeps each instruction at most once per position of the text — so a match costs at most
/// (program length) × (text length + 1) steps whatever the pattern, where a backtracking engine takes
/// exponential time on patterns such as `(x+x+)+y` (name servers come from hostile DNS).
///
/// The syntax is the common subset of Python's `re` (which `pymispwarninglists` uses) and ICU: literals,
/// `.`, classes `[a-z0-9_-]`, `[^…]`, `\d \w \s \D \W \S`, escapes (`\.`, `\t`, `\xHH`, `\uHHHH`), anchors
/// `^ $ \A \z \Z \b \B`, groups `(…)`, `(?:…)`, `(?P<name>…)`, `(?<name>…)`, alternation `|`, quantifiers
/// `* + ? {n} {n,} {n,m}` (lazy `*?` matches the same texts), and the flag `(?i)` / `(?i:…)`. What a
/// linear engine cannot do — backreferences, lookahead and lookbehind, atomic groups, possessive
/// quantifiers — and what this one does not read (other flags, `\p{…}`, POSIX and nested classes) is
/// refused with a sentence saying which construct, never guessed at. Only whether the pattern occurs
/// anywhere in the text is computed (a search, as `re.search` and `firstMatch`).
public struct LinearRegex: Sendable {
    /// Longest program accepted, after counted repetitions are expanded: a match costs at most this many
    /// steps per character of the text.
    public static let maxProgram = 10_000
    /// The largest count in `{n,m}`.
    static let maxCount = 1_000

    public let pattern: String
    private let program: [Instruction]

    public init(_ pattern: String) throws(LinearRegexError) {
        self.pattern = pattern
        var parser = Parser(scalars: Array(pattern.unicodeScalars))
        let node = try parser.parseWhole()
        var compiler = Compiler()
        try compiler.emit(node)
        compiler.append(.match)
        program = compiler.program
    }

    /// The number of instructions (a match costs at most this many steps per character).
    public var size: Int { program.count }

    /// Whether the pattern matches somewhere in `text`.
    public func matches(_ text: String) -> Bool {
        var steps = 0
        return matches(text, steps: &steps)
    }

    /// Whether the pattern matches somewhere in `text`, with the instructions visited added to `steps`: at most
    /// ``size`` × (characters + 1) (the fuzz target checks it).
    public func matches(_ text: String, steps: inout Int) -> Bool {
        let input = Array(text.unicodeScalars)
        var current = ThreadList(capacity: program.count)
        var next = ThreadList(capacity: program.count)
        var stack: [Int] = []
        for position in 0...input.count {
            // An unanchored search: a new thread starts at every position.
            if add(0, at: position, input, to: &current, stack: &stack, steps: &steps) { return true }
            guard position < input.count else { break }
            let c = input[position]
            next.clear()
            for pc in current.members {
                let taken: Bool
                switch program[pc] {
                case .scalar(let s): taken = c == s
                case .set(let set): taken = set.contains(c)
                case .any: taken = !LinearRegex.isLineTerminator(c)
                default: taken = false  // match, split, jump, assert: handled in `add`
                }
                if taken, add(pc + 1, at: position + 1, input, to: &next, stack: &stack, steps: &steps) { return true }
            }
            swap(&current, &next)
        }
        return false
    }

    /// Adds the thread at `pc` and everything it reaches without consuming a character; true when one of
    /// them is `match`.
    private func add(_ start: Int, at position: Int, _ input: [Unicode.Scalar], to list: inout ThreadList,
                     stack: inout [Int], steps: inout Int) -> Bool {
        stack.removeAll(keepingCapacity: true)
        stack.append(start)
        while let pc = stack.popLast() {
            guard list.insert(pc) else { continue }
            steps += 1
            switch program[pc] {
            case .match: return true
            case .jump(let to): stack.append(to)
            case .split(let a, let b): stack.append(b); stack.append(a)
            case .assert(let a): if a.holds(at: position, in: input) { stack.append(pc + 1) }
            case .scalar, .set, .any: break
            }
        }
        return false
    }

    static func isLineTerminator(_ c: Unicode.Scalar) -> Bool {
        switch c.value {
        case 0x0A, 0x0B, 0x0C, 0x0D, 0x85, 0x2028, 0x2029: true
        default: false
        }
    }

    static func isWord(_ c: Unicode.Scalar) -> Bool {
        if c.isASCII {
            let v = c.value
            return (v >= 0x30 && v <= 0x39) || (v >= 0x41 && v <= 0x5A) || (v >= 0x61 && v <= 0x7A) || v == 0x5F
        }
        let p = c.properties
        return p.isAlphabetic || p.numericType == .decimal || p.generalCategory == .connectorPunctuation
            || p.generalCategory == .nonspacingMark || p.generalCategory == .spacingMark || p.generalCategory == .enclosingMark
            || c.value == 0x200C || c.value == 0x200D
    }

    static func isDigit(_ c: Unicode.Scalar) -> Bool {
        c.isASCII ? (c.value >= 0x30 && c.value <= 0x39) : c.properties.numericType == .decimal
    }

    static func isSpace(_ c: Unicode.Scalar) -> Bool { c.properties.isWhitespace }
}

/// Why a pattern is refused: one sentence naming the construct.
public struct LinearRegexError: Error, Sendable, Equatable {
    public let message: String
}

// MARK: - the program

private enum Instruction: Sendable {
    case scalar(Unicode.Scalar)
    case set(CharacterSet)
    case any
    case split(Int, Int)
    case jump(Int)
    case assert(Assertion)
    case match
}

private enum Assertion: Sendable {
    case start, end, endOrFinalNewline, wordBoundary, notWordBoundary

    func holds(at i: Int, in input: [Unicode.Scalar]) -> Bool {
        switch self {
        case .start: return i == 0
        case .end: return i == input.count
        case .endOrFinalNewline: return i == input.count || (i == input.count - 1 && input[i] == "\n")
        case .wordBoundary, .notWordBoundary:
            let before = i > 0 && LinearRegex.isWord(input[i - 1])
            let after = i < input.count && LinearRegex.isWord(input[i])
            return (before != after) == (self == .wordBoundary)
        }
    }
}

/// A bracketed class (or `\d`, `\w`, `\s` and their negations, or a case-folded letter).
private struct CharacterSet: Sendable {
    enum Item: Sendable {
        case range(UInt32, UInt32)
        case digit(Bool), word(Bool), space(Bool)  // the Bool: negated
    }
    var items: [Item]
    var negated: Bool

    func contains(_ c: Unicode.Scalar) -> Bool {
        var found = false
        for item in items {
            switch item {
            case .range(let lo, let hi): found = c.value >= lo && c.value <= hi
            case .digit(let neg): found = LinearRegex.isDigit(c) != neg
            case .word(let neg): found = LinearRegex.isWord(c) != neg
            case .space(let neg): found = LinearRegex.isSpace(c) != neg
            }
            if found { break }
        }
        return found != negated
    }

    /// With every ASCII letter's other case added (for `(?i)`).
    func folded() -> CharacterSet {
        var extra: [Item] = []
        for case .range(let lo, let hi) in items {
            for (a, b, delta) in [(UInt32(0x41), UInt32(0x5A), Int64(0x20)), (0x61, 0x7A, -0x20)] {
                let l = max(lo, a), h = min(hi, b)
                if l <= h { extra.append(.range(UInt32(Int64(l) + delta), UInt32(Int64(h) + delta))) }
            }
        }
        return CharacterSet(items: items + extra, negated: negated)
    }
}

/// The set of program counters a step holds: a sparse set, so that clearing it and testing membership are
/// constant time.
private struct ThreadList {
    private var sparse: [Int]
    private(set) var members: [Int] = []

    init(capacity: Int) {
        sparse = Array(repeating: 0, count: capacity)
        members.reserveCapacity(capacity)
    }

    /// False when `pc` was already there.
    mutating func insert(_ pc: Int) -> Bool {
        let i = sparse[pc]
        if i < members.count, members[i] == pc { return false }
        sparse[pc] = members.count
        members.append(pc)
        return true
    }

    mutating func clear() { members.removeAll(keepingCapacity: true) }
}

// MARK: - parsing

private indirect enum Node {
    case empty
    case scalar(Unicode.Scalar)
    case set(CharacterSet)
    case any
    case assert(Assertion)
    case concat([Node])
    case alternation([Node])
    case repetition(Node, min: Int, max: Int?)
}

private struct Parser {
    let scalars: [Unicode.Scalar]
    var at = 0
    /// `(?i)`: letters match either case from here to the end of the enclosing group.
    var fold = false

    init(scalars: [Unicode.Scalar]) { self.scalars = scalars }

    var peek: Unicode.Scalar? { at < scalars.count ? scalars[at] : nil }

    func refuse(_ why: String) -> LinearRegexError { LinearRegexError(message: why) }

    mutating func parseWhole() throws(LinearRegexError) -> Node {
        let node = try parseAlternation()
        if at < scalars.count { throw refuse("unbalanced ')' at offset \(at)") }
        return node
    }

    mutating func parseAlternation() throws(LinearRegexError) -> Node {
        let savedFold = fold
        defer { fold = savedFold }
        var branches = [try parseConcatenation()]
        while peek == "|" {
            at += 1
            branches.append(try parseConcatenation())
        }
        return branches.count == 1 ? branches[0] : .alternation(branches)
    }

    mutating func parseConcatenation() throws(LinearRegexError) -> Node {
        var items: [Node] = []
        while let c = peek, c != "|", c != ")" {
            guard var atom = try parseAtom() else { continue }
            atom = try parseQuantifiers(atom)
            items.append(atom)
        }
        return items.count == 1 ? items[0] : .concat(items)
    }

    mutating func parseQuantifiers(_ atom: Node) throws(LinearRegexError) -> Node {
        guard let (min, max) = try parseQuantifier() else { return atom }
        if peek == "?" { at += 1 }  // lazy: the same texts match
        else if peek == "+" { throw refuse("possessive quantifiers are not supported") }
        if let c = peek, c == "*" || c == "+" || c == "?" || (c == "{" && lookingAtCount()) {
            throw refuse("a quantifier follows another quantifier at offset \(at) (multiple repeat)")
        }
        return .repetition(atom, min: min, max: max)
    }

    mutating func parseQuantifier() throws(LinearRegexError) -> (Int, Int?)? {
        switch peek {
        case "*": at += 1; return (0, nil)
        case "+": at += 1; return (1, nil)
        case "?": at += 1; return (0, 1)
        case "{":
            guard lookingAtCount() else { return nil }  // as in Python: a '{' that is no count is a literal
            at += 1
            let lo = readNumber() ?? 0
            var hi: Int? = lo
            if peek == "," {
                at += 1
                hi = readNumber()
            }
            at += 1  // "}"
            guard lo <= LinearRegex.maxCount, (hi ?? 0) <= LinearRegex.maxCount else {
                throw refuse("a count above \(LinearRegex.maxCount) in {n,m}")
            }
            if let hi, hi < lo { throw refuse("{\(lo),\(hi)}: the minimum is above the maximum") }
            return (lo, hi)
        default: return nil
        }
    }

    /// `{n}`, `{n,}`, `{n,m}` or `{,m}` starts here.
    func lookingAtCount() -> Bool {
        var i = at + 1
        var digits = 0
        while i < scalars.count, scalars[i].properties.numericType == .decimal, scalars[i].isASCII { i += 1; digits += 1 }
        var comma = false
        if i < scalars.count, scalars[i] == "," {
            comma = true
            i += 1
            while i < scalars.count, scalars[i].isASCII, scalars[i].properties.numericType == .decimal { i += 1; digits += 1 }
        }
        return i < scalars.count && scalars[i] == "}" && (digits > 0) && (comma || digits > 0)
    }

    mutating func readNumber() -> Int? {
        var n: Int?
        while let c = peek, c.isASCII, c.value >= 0x30, c.value <= 0x39 {
            n = min((n ?? 0) * 10 + Int(c.value - 0x30), 1_000_000)
            at += 1
        }
        return n
    }

    /// One atom, or nil for a construct that only changes the flags (`(?i)`).
    mutating func parseAtom() throws(LinearRegexError) -> Node? {
        guard let c = peek else { return .empty }
        at += 1
        switch c {
        case "(": return try parseGroup()
        case "[": return .set(try parseClass())
        case ".": return .any
        case "^": return .assert(.start)
        case "$": return .assert(.endOrFinalNewline)
        case "\\": return try parseEscape()
        case "*", "+", "?": throw refuse("nothing to repeat at offset \(at - 1)")
        case "{" where lookingAtCount(at: at - 1): throw refuse("nothing to repeat at offset \(at - 1)")
        default: return literal(c)
        }
    }

    func lookingAtCount(at position: Int) -> Bool {
        var copy = self
        copy.at = position
        return copy.lookingAtCount()
    }

    func literal(_ c: Unicode.Scalar) -> Node {
        guard fold, c.isASCII, c.properties.isAlphabetic else { return .scalar(c) }
        return .set(CharacterSet(items: [.range(c.value, c.value)], negated: false).folded())
    }

    mutating func parseGroup() throws(LinearRegexError) -> Node? {
        if peek == "?" {
            at += 1
            switch peek {
            case ":":
                at += 1
            case "P":
                at += 1
                if peek == "=" { throw refuse("named backreferences (?P=name) are not supported") }
                guard peek == "<" else { throw refuse("unknown group construct (?P at offset \(at))") }
                try skipGroupName()
            case "<":
                if at + 1 < scalars.count, scalars[at + 1] == "=" || scalars[at + 1] == "!" {
                    throw refuse("lookbehind assertions are not supported")
                }
                try skipGroupName()
            case "=", "!":
                throw refuse("lookahead assertions are not supported")
            case ">":
                throw refuse("atomic groups are not supported")
            case "#":
                while let c = peek, c != ")" { at += 1 }
                guard peek == ")" else { throw refuse("unterminated comment") }
                at += 1
                return nil
            default:
                // Flags: only `i`, as (?i) for the rest of the group or (?i:…) for a group.
                var flags: [Unicode.Scalar] = []
                while let c = peek, c != ")", c != ":" { flags.append(c); at += 1 }
                guard let end = peek else { throw refuse("unterminated group") }
                guard !flags.isEmpty, flags.allSatisfy({ $0 == "i" }) else {
                    throw refuse("the flag '\(VisibleText.escape(String(String.UnicodeScalarView(flags))))' is not supported (only 'i')")
                }
                at += 1
                if end == ")" {
                    fold = true
                    return nil
                }
                let saved = fold
                fold = true
                let inner = try parseAlternation()
                fold = saved
                guard peek == ")" else { throw refuse("missing ')'") }
                at += 1
                return inner
            }
        }
        let inner = try parseAlternation()
        guard peek == ")" else { throw refuse("missing ')'") }
        at += 1
        return inner
    }

    mutating func skipGroupName() throws(LinearRegexError) {
        at += 1  // "<"
        let start = at
        while let c = peek, c != ">" {
            guard c.isASCII, c == "_" || LinearRegex.isWord(c) else { throw refuse("bad group name") }
            at += 1
        }
        guard peek == ">", at > start else { throw refuse("bad group name") }
        at += 1
    }

    mutating func parseEscape() throws(LinearRegexError) -> Node {
        guard let c = peek else { throw refuse("a trailing backslash") }
        at += 1
        switch c {
        case "d": return .set(CharacterSet(items: [.digit(false)], negated: false))
        case "D": return .set(CharacterSet(items: [.digit(true)], negated: false))
        case "w": return .set(CharacterSet(items: [.word(false)], negated: false))
        case "W": return .set(CharacterSet(items: [.word(true)], negated: false))
        case "s": return .set(CharacterSet(items: [.space(false)], negated: false))
        case "S": return .set(CharacterSet(items: [.space(true)], negated: false))
        case "b": return .assert(.wordBoundary)
        case "B": return .assert(.notWordBoundary)
        case "A": return .assert(.start)
        case "z": return .assert(.end)
        case "Z": return .assert(.endOrFinalNewline)
        default:
            at -= 1
            return literal(try escapedScalar())
        }
    }

    /// The character an escape stands for (after the backslash), in or out of a class.
    mutating func escapedScalar() throws(LinearRegexError) -> Unicode.Scalar {
        guard let c = peek else { throw refuse("a trailing backslash") }
        at += 1
        switch c {
        case "t": return "\t"
        case "n": return "\n"
        case "r": return "\r"
        case "f": return "\u{0C}"
        case "v": return "\u{0B}"
        case "a": return "\u{07}"
        case "e": return "\u{1B}"
        case "0":
            if let d = peek, d.isASCII, d.value >= 0x30, d.value <= 0x37 { throw refuse("octal escapes are not supported") }
            return "\u{00}"
        case "x":
            if peek == "{" { throw refuse("\\x{…} escapes are not supported") }
            return try hex(2)
        case "u": return try hex(4)
        case "1", "2", "3", "4", "5", "6", "7", "8", "9", "k":
            throw refuse("backreferences are not supported")
        case "p", "P": throw refuse("Unicode property classes (\\p{…}) are not supported")
        case "Q", "E": throw refuse("\\Q…\\E quoting is not supported")
        case "G": throw refuse("\\G is not supported")
        default:
            guard c.isASCII, !LinearRegex.isWord(c) else { throw refuse("the escape \\\(VisibleText.escape(String(c))) is not supported") }
            return c  // an escaped punctuation character stands for itself
        }
    }

    mutating func hex(_ count: Int) throws(LinearRegexError) -> Unicode.Scalar {
        var v: UInt32 = 0
        for _ in 0..<count {
            guard let c = peek, c.isASCII, let d = Int(String(c), radix: 16) else { throw refuse("a bad hexadecimal escape") }
            v = v * 16 + UInt32(d)
            at += 1
        }
        guard let s = Unicode.Scalar(v) else { throw refuse("a hexadecimal escape that is no character") }
        return s
    }

    mutating func parseClass() throws(LinearRegexError) -> CharacterSet {
        var set = CharacterSet(items: [], negated: false)
        if peek == "^" { set.negated = true; at += 1 }
        var first = true
        while true {
            guard let c = peek else { throw refuse("an unterminated character class") }
            if c == "]" && !first { at += 1; break }
            first = false
            at += 1
            var low: Unicode.Scalar
            switch c {
            case "[":
                throw refuse("'[' inside a character class (POSIX or nested classes) is not supported")
            case "\\":
                switch peek {
                case "d": at += 1; set.items.append(.digit(false)); continue
                case "D": at += 1; set.items.append(.digit(true)); continue
                case "w": at += 1; set.items.append(.word(false)); continue
                case "W": at += 1; set.items.append(.word(true)); continue
                case "s": at += 1; set.items.append(.space(false)); continue
                case "S": at += 1; set.items.append(.space(true)); continue
                case "b": throw refuse("\\b inside a character class is not supported")
                default: low = try escapedScalar()
                }
            default:
                low = c
            }
            // A range `a-z`, unless the '-' ends the class.
            if peek == "-", at + 1 < scalars.count, scalars[at + 1] != "]" {
                at += 1
                guard let h = peek else { throw refuse("an unterminated character class") }
                at += 1
                var high = h
                if h == "\\" {
                    if let e = peek, "dDwWsS".unicodeScalars.contains(e) { throw refuse("a class shorthand as the end of a range") }
                    high = try escapedScalar()
                } else if h == "[" {
                    throw refuse("'[' inside a character class (POSIX or nested classes) is not supported")
                }
                guard low.value <= high.value else {
                    throw refuse("a bad range \(VisibleText.escape(String(low)))-\(VisibleText.escape(String(high))) in a character class")
                }
                set.items.append(.range(low.value, high.value))
            } else {
                set.items.append(.range(low.value, low.value))
            }
        }
        return fold ? set.folded() : set
    }
}

// MARK: - compiling

private struct Compiler {
    var program: [Instruction] = []

    mutating func append(_ i: Instruction) { program.append(i) }

    func tooLarge() -> LinearRegexError {
        LinearRegexError(message: "the pattern is too large (more than \(LinearRegex.maxProgram) steps once repetitions are expanded)")
    }

    mutating func emit(_ node: Node) throws(LinearRegexError) {
        guard program.count <= LinearRegex.maxProgram else { throw tooLarge() }
        switch node {
        case .empty: break
        case .scalar(let s): append(.scalar(s))
        case .set(let s): append(.set(s))
        case .any: append(.any)
        case .assert(let a): append(.assert(a))
        case .concat(let items): for i in items { try emit(i) }
        case .alternation(let branches):
            // split L1, next; L1: a; jump end; next: split L2, … ; last branch
            var jumps: [Int] = []
            for (n, branch) in branches.enumerated() {
                if n < branches.count - 1 {
                    let split = program.count
                    append(.split(split + 1, 0))
                    try emit(branch)
                    jumps.append(program.count)
                    append(.jump(0))
                    program[split] = .split(split + 1, program.count)
                } else {
                    try emit(branch)
                }
            }
            for j in jumps { program[j] = .jump(program.count) }
        case .repetition(let inner, let min, let max):
            for _ in 0..<min { try emit(inner) }
            if let max {
                // (inner (inner (…)?)?)?: each optional copy may end the repetition.
                var splits: [Int] = []
                for _ in min..<max {
                    splits.append(program.count)
                    append(.split(program.count + 1, 0))
                    try emit(inner)
                }
                for s in splits { program[s] = .split(s + 1, program.count) }
            } else {
                // L: split body, end; body; jump L
                let loop = program.count
                append(.split(loop + 1, 0))
                try emit(inner)
                append(.jump(loop))
                program[loop] = .split(loop + 1, program.count)
            }
        }
        guard program.count <= LinearRegex.maxProgram else { throw tooLarge() }
    }
}
