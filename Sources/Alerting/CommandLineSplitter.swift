/// Splits a command line into arguments with shell-like quoting, without a shell.
///
/// Rules: blanks separate arguments; `'...'` keeps everything literally; `"..."` keeps everything but
/// `\"`, `\\`, `\$` and `` \` `` escapes; outside quotes `\x` is a literal `x`; quoted parts join
/// the word around them (`a"b c"` is `ab c`); `''` is an empty argument. Nothing is expanded: an
/// unquoted `| & ; < > ( )`, or a `$` or backtick outside single quotes, is refused rather than
/// passed on literally, because whoever wrote it expected a shell — use `sh -c '...'` for that.
enum CommandLineSplitter {
    static func split(_ commandLine: String) throws(AlertSinkError) -> [String] {
        enum Mode { case plain, single, double }
        var words: [String] = []
        var word = ""
        var inWord = false
        var mode = Mode.plain
        var iterator = commandLine.makeIterator()

        func fail(_ message: String) -> AlertSinkError {
            AlertSinkError(sink: "command", reason: .invalidConfiguration, message: "alert command: \(message)")
        }
        let needsShell = "use sh -c '...' if you need a shell"

        while let ch = iterator.next() {
            switch mode {
            case .plain:
                switch ch {
                case " ", "\t", "\n", "\r":
                    if inWord { words.append(word) }
                    word = ""
                    inWord = false
                case "'":
                    mode = .single
                    inWord = true
                case "\"":
                    mode = .double
                    inWord = true
                case "\\":
                    guard let next = iterator.next() else { throw fail("a backslash ends the command") }
                    if next != "\n" {
                        word.append(next)
                        inWord = true
                    }
                case "|", "&", ";", "<", ">", "(", ")", "`", "$":
                    throw fail("'\(ch)' is shell syntax and commands run without a shell; quote it or \(needsShell)")
                default:
                    word.append(ch)
                    inWord = true
                }
            case .single:
                if ch == "'" { mode = .plain } else { word.append(ch) }
            case .double:
                switch ch {
                case "\"":
                    mode = .plain
                case "\\":
                    guard let next = iterator.next() else { throw fail("unterminated double quote") }
                    switch next {
                    case "\"", "\\", "$", "`": word.append(next)
                    case "\n": break
                    default:
                        word.append("\\")
                        word.append(next)
                    }
                case "$", "`":
                    throw fail("'\(ch)' inside double quotes would need a shell to expand; use single quotes, or \(needsShell)")
                default:
                    word.append(ch)
                }
            }
        }
        switch mode {
        case .single: throw fail("unterminated single quote")
        case .double: throw fail("unterminated double quote")
        case .plain: break
        }
        if inWord { words.append(word) }
        guard !words.isEmpty else { throw fail("the command is empty") }
        return words
    }
}
