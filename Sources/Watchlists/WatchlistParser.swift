import Foundation
public import DNSWatchModel

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads watchlist files: one indicator a line, `#` comments, header comments (`# kind: c2`).
///
/// - A `#` at the start of a line or after whitespace starts a comment; a `#` glued to other text
///   (`http://host/#frag`) belongs to it. A comment after an entry is kept as the entry's note.
/// - Header comments (`# kind:`, `# interval:`, `# description:`, keys in any case) are read from the
///   whole-line comments before the first domain; later ones are plain comments. The kind and interval
///   take the first word of the value; a repeated key overrides the earlier one. A bad value is an
///   invalid line.
/// - Every other line is classified by `Indicator.classify`.
public enum WatchlistParser {
    /// Parses the text of one file; `path` names it in errors and gives the list name.
    public static func parse(text: String, path: String) -> ParsedWatchlist {
        var result = ParsedWatchlist(name: listName(forPath: path), path: path)
        var seen = Set<DomainName>()
        var inHeader = true
        var lineNumber = 0
        var body = Substring(text)
        if body.first == "\u{FEFF}" { body = body.dropFirst() }

        // Lines as `LineReader` cuts them (at most `LineReader.maxLineLength` bytes up to a `\n`: a longer
        // one is invalid, as in a feed or a COF file), then at every other line break (`\r`, U+2028, ...).
        for physical in body.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false) {
            if Substring(physical).utf8.count > LineReader.maxLineLength {
                lineNumber += 1
                result.invalid.append(InvalidLine(path: path, line: lineNumber, text: "", reason: LineReader.tooLong))
                continue
            }
            var line = Substring(physical)
            if line.unicodeScalars.last == "\r" { line = Substring(line.unicodeScalars.dropLast()) }
            for rawLine in line.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
                lineNumber += 1
                let (content, comment) = splitComment(rawLine)
                let indicator = String(content).trimmingBlanks
                if indicator.isEmpty {
                    if inHeader, let comment {
                        applyHeader(comment, to: &result, line: lineNumber, text: String(rawLine))
                    }
                    continue
                }
                switch Indicator.classify(indicator) {
                case .domain(let name):
                    inHeader = false
                    if seen.insert(name).inserted {
                        let note = comment.map { $0.trimmingCharacters(in: .whitespaces) }
                        result.entries.append(
                            WatchlistEntry(domain: name, note: note?.isEmpty == false ? note : nil, line: lineNumber))
                    } else {
                        result.duplicates += 1
                    }
                case .skipped(let reason):
                    result.skipped[reason, default: 0] += 1
                case .invalid(let reason):
                    result.invalid.append(InvalidLine(path: path, line: lineNumber, text: String(rawLine), reason: reason))
                }
            }
        }
        return result
    }

    /// Reads and parses a file (UTF-8; undecodable bytes make their lines invalid). Only a regular file
    /// (or a symbolic link to one) is read: a FIFO, a device, a socket or a directory is refused before it
    /// is opened, and the file is opened non-blocking, so that nothing given as a watchlist can hang a read.
    public static func parse(fileAt path: String) throws(WatchlistReadError) -> ParsedWatchlist {
        let bytes = try RegularFile.read(path)
        return parse(text: String(decoding: bytes, as: UTF8.self), path: path)
    }

    /// The list name of a file: its name without directory and extension (`lists/c2-ursnif.txt` → `c2-ursnif`).
    public static func listName(forPath path: String) -> String {
        URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
    }

    /// Splits a line at its first `#` that starts the line or follows whitespace.
    /// Returns the content before it and the comment text after it (nil when there is no comment).
    static func splitComment(_ line: Substring) -> (content: Substring, comment: Substring?) {
        var previousIsSpace = true
        for index in line.indices {
            let ch = line[index]
            if ch == "#" && previousIsSpace {
                return (line[..<index], line[line.index(after: index)...])
            }
            previousIsSpace = ch.isWhitespace
        }
        return (line, nil)
    }

    /// Reads `key: value` from a whole-line comment (its text after the first `#`).
    private static func applyHeader(_ comment: Substring, to result: inout ParsedWatchlist, line: Int, text: String) {
        let body = comment.drop { $0 == "#" || $0.isWhitespace }
        guard let colon = body.firstIndex(of: ":") else { return }
        let key = body[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
        let value = body[body.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        let firstWord = String(value.prefix { !$0.isWhitespace })
        func fail(_ reason: String) {
            result.invalid.append(InvalidLine(path: result.path, line: line, text: text, reason: reason))
        }
        switch key {
        case "kind":
            guard let kind = ListKind(rawValue: firstWord.lowercased()) else {
                let expected = ListKind.allCases.map(\.rawValue).joined(separator: ", ")
                return fail("unknown kind '\(VisibleText.escape(firstWord))' (expected \(expected))")
            }
            result.header.kind = kind
        case "interval":
            let seconds: Int
            do throws(TimeParseError) {
                seconds = try DurationParser.seconds(firstWord)
            } catch {
                return fail(error.outOfRange
                    ? PollInterval.outOfRange
                    : "bad interval '\(VisibleText.escape(firstWord))' (expected a duration such as 30m, 1h, 6h)")
            }
            if let why = PollInterval.problem(seconds) { return fail(why) }
            result.header.interval = seconds
        case "description":
            result.header.description = value.isEmpty ? nil : value
        default:
            break
        }
    }
}
