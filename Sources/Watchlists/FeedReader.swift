public import DNSWatchModel
import Foundation
import Synchronization

/// The first line of a distinct value of an IoC feed.
public struct FeedEntry: Sendable, Equatable {
    public var value: IndicatorValue
    /// The line's indicator as written, its comment removed, trimmed.
    public var text: String
    /// The file as given (`-` for standard input).
    public var path: String
    /// 1-based line number.
    public var line: Int

    public init(value: IndicatorValue, text: String, path: String, line: Int) {
        self.value = value
        self.text = text
        self.path = path
        self.line = line
    }
}

/// What a feed held, counted as it is read.
public struct FeedTally: Sendable, Equatable {
    /// Lines read (blank and comment lines included).
    public var lines = 0
    /// Lines that held an indicator (valid, skipped or not).
    public var indicators = 0
    /// Distinct values.
    public var values = 0
    /// Lines whose value an earlier line already had.
    public var duplicates = 0
    /// Skipped lines by reason (only `url-path` for a feed).
    public var skipped: [SkipReason: Int] = [:]
    /// Invalid lines: the first `FeedReader.keptInvalid` of them, and how many in all.
    public var invalid: [InvalidLine] = []
    public var invalidCount = 0

    public init() {}
}

/// Reads IoC feeds line by line, in chunks, with the watchlist rules (``WatchlistParser``'s comments,
/// ``FeedIndicator``): memory holds one chunk and the set of values seen so far, never the file. Header
/// comments (`# kind:`) mean nothing to a feed and are plain comments.
///
/// A value met again (in the same file or a later one) is counted as a duplicate; each value is handed
/// out once, with its first line. Reads block (a pipe on standard input waits for its writer): call
/// `next` off the cooperative pool.
public final class FeedReader: Sendable {
    /// How many invalid lines the tally keeps (all are counted).
    public static let keptInvalid = 50

    private struct State {
        var paths: [String]
        var reader: RegularFile.Reader?
        var splitter = LineReader.Splitter()
        var lineNumber = 0
        var atFileStart = true
        var seen = Set<IndicatorValue>()
        /// Values of the last chunk not handed out yet.
        var pending: [FeedEntry] = []
        var tally = FeedTally()
        var done = false
    }

    private let state: Mutex<State>
    private let distinct: Bool
    private let stopAtInvalid: Bool

    /// - Parameters:
    ///   - paths: files in order; `-` is standard input.
    ///   - distinct: hand each value out once (false: every valid line, and no set of seen values is kept;
    ///     for a first pass that only looks for invalid lines).
    ///   - stopAtInvalid: `next` returns as soon as a line is invalid (for a reader that refuses the feed
    ///     then: an endless stream of garbage is not read on).
    public init(paths: [String], distinct: Bool = true, stopAtInvalid: Bool = false) {
        state = Mutex(State(paths: paths))
        self.distinct = distinct
        self.stopAtInvalid = stopAtInvalid
    }

    /// The counts so far.
    public var tally: FeedTally { state.withLock { $0.tally } }

    /// The next distinct values in order of first appearance, at least one and at most `count` (fewer
    /// only at the end, or with `stopAtInvalid` once a line is invalid); empty once every file is read.
    public func next(_ count: Int) throws(RegularFileError) -> [FeedEntry] {
        let (distinct, stopAtInvalid) = (self.distinct, self.stopAtInvalid)
        return try state.withLock { s throws(RegularFileError) -> [FeedEntry] in
            while s.pending.count < count, !s.done, !(stopAtInvalid && s.tally.invalidCount > 0) {
                try FeedReader.step(&s, distinct: distinct)
            }
            let out = Array(s.pending.prefix(count))
            s.pending.removeFirst(out.count)
            return out
        }
    }

    /// Reads one chunk (opening the next file when needed) and classifies the lines it completes into `pending`.
    /// Lines are cut as `LineReader` cuts them (at most `LineReader.maxLineLength` bytes up to a `\n`; a
    /// longer one is invalid, `LineReader.tooLong`), then as the watchlist parser splits them (`\r` and the
    /// other line breaks end a line too).
    private static func step(_ s: inout State, distinct: Bool) throws(RegularFileError) {
        guard let reader = s.reader else {
            guard !s.paths.isEmpty else {
                s.done = true
                return
            }
            let path = s.paths.removeFirst()
            s.reader = path == "-" ? RegularFile.Reader(standardInputNamed: "-") : try RegularFile.Reader(path: path)
            (s.splitter, s.lineNumber, s.atFileStart) = (LineReader.Splitter(), 0, true)
            return
        }
        let chunk = try reader.read()
        var splitter = s.splitter
        s.splitter = LineReader.Splitter()  // not shared while it is fed (no copy of its buffer)
        let path = reader.path
        if chunk.isEmpty {
            splitter.finish { _, bytes in line(&s, bytes, path: path, distinct: distinct) }
            s.reader = nil
        } else {
            splitter.feed(chunk[...]) { _, bytes in line(&s, bytes, path: path, distinct: distinct) }
            s.splitter = splitter
        }
    }

    /// Classifies one line of `LineReader` (nil: too long) into `pending` and the tally.
    private static func line(_ s: inout State, _ bytes: ArraySlice<UInt8>?, path: String, distinct: Bool) {
        func invalid(_ raw: Substring, _ reason: String) {
            s.tally.invalidCount += 1
            if s.tally.invalid.count < keptInvalid {
                s.tally.invalid.append(InvalidLine(path: path, line: s.lineNumber, text: String(raw), reason: reason))
            }
        }
        guard let bytes else {
            s.lineNumber += 1
            s.tally.lines += 1
            s.tally.indicators += 1
            s.atFileStart = false
            return invalid("", LineReader.tooLong)  // its text is not kept
        }
        var text = Substring(String(decoding: bytes, as: UTF8.self))
        if s.atFileStart {
            if text.first == "\u{FEFF}" { text = text.dropFirst() }
            s.atFileStart = false
        }
        for raw in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            s.lineNumber += 1
            s.tally.lines += 1
            let content = String(WatchlistParser.splitComment(raw).content).trimmingBlanks
            if content.isEmpty { continue }
            s.tally.indicators += 1
            switch FeedIndicator.classify(content) {
            case .value(let v):
                if distinct {
                    guard s.seen.insert(v).inserted else {
                        s.tally.duplicates += 1
                        continue
                    }
                }
                s.tally.values += 1
                s.pending.append(FeedEntry(value: v, text: content, path: path, line: s.lineNumber))
            case .skipped(let reason):
                s.tally.skipped[reason, default: 0] += 1
            case .invalid(let reason):
                invalid(raw, reason)
            }
        }
    }
}
