public import Classification
import DNSWatchModel
import Detection
import Foundation
public import Store
#if canImport(Glibc)
import Glibc
#endif

/// `dnswatch import cof`: other sensors' passive DNS (COF NDJSON, `COFLine`) stored as spans of their
/// source, classified as polled spans are, merged per (name, type, rdata set, source) (`ImportPlan.merging`).
///
/// Streaming: files are read chunk by chunk and written in batches of `batchSize` records, one write
/// transaction each (`ImportStore.importBatch`: reads, the plan, one write), so memory holds one chunk and
/// one batch whatever the input's size. "Nothing stored on a bad line" is a first pass that only parses,
/// before any store is opened (`prepare`: standard input is copied to an unlinked temporary file on the
/// way, at most `spoolLimit` bytes, and read no further than its first bad line); with `skipInvalid` there
/// is one pass. The import is async throughout: the store through its async interface, the files' blocking
/// calls through `FileIO`, off the cooperative pool.
public struct COFImport: Sendable {
    /// A file to read (`-`: standard input) and the source its records are stored under.
    public struct Input: Sendable, Equatable {
        public var path: String
        public var source: String
        public init(path: String, source: String) {
            self.path = path
            self.source = source
        }
    }

    /// A bad line: `FILE:LINE: reason`.
    public struct BadLine: Sendable, Equatable, CustomStringConvertible {
        public var path: String
        public var line: Int
        public var reason: String
        public var description: String { "\(VisibleText.escape(path)):\(line): \(VisibleText.escape(reason))" }
    }

    /// The import was refused: bad lines (the first `BadLines.kept`), nothing stored.
    public struct BadLines: Error, Sendable, CustomStringConvertible {
        public static let kept = 50
        public var lines: [BadLine]
        public var total: Int
        public var description: String {
            "\(total) invalid line\(total == 1 ? "" : "s"): nothing imported (use --skip-invalid to import the rest)"
        }
    }

    /// What an import read and did.
    public struct Summary: Sendable, Equatable {
        /// Lines that held something (blank lines are not records).
        public var read = 0
        public var counts = MergeCounts()
        /// Well-formed lines that are no record dnswatch keeps, by reason (`MX`, `status NXDOMAIN`).
        public var skipped: [String: Int] = [:]
        /// Bad lines skipped (`skipInvalid`), the first `BadLines.kept` of them.
        public var invalid: [BadLine] = []
        public var invalidTotal = 0
        public init() {}
    }

    /// Records per write transaction.
    public static let batchSize = 5000

    let store: any ImportStore
    let classifier: Classifier

    public init(store: any ImportStore, classifier: Classifier) {
        self.store = store
        self.classifier = classifier
    }

    /// A name a source may have: some visible text, and not `polled` (what dnswatch's own polls are called).
    public static func checkSourceName(_ name: String) -> String? {
        if name.isEmpty { return "a source needs a name" }
        if name == SourceFilter.polledName { return "'\(name)' names dnswatch's own polls" }
        if name.utf8.count > 200 { return "a source name is at most 200 bytes" }
        if VisibleText.escape(name) != name { return "a source name has no control characters" }
        return nil
    }

    /// The default source of a file: its name (`exports/sensor-a.json` → `sensor-a.json`); `stdin` for `-`.
    public static func defaultSource(forPath path: String) -> String {
        path == "-" ? "stdin" : PathText.name(of: path)
    }

    /// The inputs opened and, without `skipInvalid`, checked, before any store is opened or created: what
    /// `run` imports is the very bytes that were checked. A regular file is read twice through one open
    /// descriptor, the second time only as far as the first read went (a line appended in between is not
    /// read); standard input is copied on the first read to an unlinked temporary file of at most
    /// `spoolLimit` bytes and the copy is imported.
    public final class Prepared: @unchecked Sendable {  // handed from `prepare` to `run`, never shared
        enum Bytes {
            /// A regular file and how many of its bytes were checked (nil: not checked, read to its end).
            case file(RegularFile.Reader, checked: Int?)
            /// Standard input's checked copy.
            case spool(Spool)
            /// Standard input, read once as it is imported (`skipInvalid`).
            case standardInput
            /// Standard input named again: already read to its end.
            case empty
        }
        let items: [(input: Input, bytes: Bytes)]
        let skipInvalid: Bool
        init(items: [(input: Input, bytes: Bytes)], skipInvalid: Bool) {
            self.items = items
            self.skipInvalid = skipInvalid
        }
    }

    /// Standard input was longer than `spoolLimit`: it is not imported.
    public struct SpoolFull: Error, Sendable, CustomStringConvertible {
        public var limit: Int
        public var description: String {
            "standard input is longer than \(limit >> 20) MiB, the most import cof copies aside to check before importing: "
                + "save it to a file and import the file (or use --skip-invalid, which reads it once and copies nothing)"
        }
    }

    /// A file changed between its check and its import: a line that was good is not any more. The records
    /// before it are stored; the bad line is not.
    public struct Changed: Error, Sendable, CustomStringConvertible {
        public var line: BadLine
        public var description: String { "\(line.description) (the file changed while it was imported; the records before this line are stored)" }
    }

    /// The most bytes of standard input copied aside to be checked before the import (4 GiB).
    public static let spoolLimit = 4 << 30

    /// Opens every input and, unless `skipInvalid`, checks every line: throws `BadLines` (the first
    /// `BadLines.kept` bad lines of the files; standard input is read no further than its first bad line),
    /// `SpoolFull` or `RegularFileError`. Touches no store.
    public static func prepare(_ inputs: [Input], skipInvalid: Bool, spoolLimit: Int = COFImport.spoolLimit) async throws -> Prepared {
        var items: [(input: Input, bytes: Prepared.Bytes)] = []
        var standardInputRead = false
        for input in inputs {
            if input.path == "-" {
                items.append((input, standardInputRead ? .empty : skipInvalid ? .standardInput : .spool(try await FileIO.run { try Spool(limit: spoolLimit) })))
                standardInputRead = true
            } else {
                let path = input.path
                items.append((input, .file(try await FileIO.run { try RegularFile.Reader(path: path) }, checked: nil)))
            }
        }
        guard !skipInvalid else { return Prepared(items: items, skipInvalid: true) }
        var bad: [BadLine] = []
        var total = 0
        struct Stop: Error {}
        for (i, item) in items.enumerated() {
            let input = item.input
            switch item.bytes {
            case .file(let reader, _):
                var chunks = Chunks(reader)
                try await chunks.forEachLine({ number, bytes in
                    guard let reason = Self.problem(bytes) else { return }
                    total += 1
                    if bad.count < BadLines.kept { bad.append(BadLine(path: input.path, line: number, reason: reason)) }
                })
                try await FileIO.run { try reader.rewind() }
                items[i].bytes = .file(reader, checked: chunks.total)
            case .spool(let spool):
                var chunks = Chunks(RegularFile.Reader(standardInputNamed: input.path))
                do {
                    try await chunks.forEachLine({ number, bytes in
                        if let reason = Self.problem(bytes) {
                            // Standard input is read no further: whatever follows, the import is refused.
                            total += 1
                            if bad.count < BadLines.kept { bad.append(BadLine(path: input.path, line: number, reason: reason)) }
                            throw Stop()
                        }
                        try spool.append(bytes)
                    }, afterChunk: { try await spool.drainIfFull() })
                } catch is Stop {}
                try await spool.rewind()
            case .standardInput, .empty:
                break
            }
        }
        guard total == 0 else { throw BadLines(lines: bad, total: total) }
        return Prepared(items: items, skipInvalid: false)
    }

    /// `prepare` then `run`. Throws `BadLines` (nothing stored) when a line is bad, unless `skipInvalid`.
    public func run(_ inputs: [Input], skipInvalid: Bool, now: Int64) async throws -> Summary {
        try await run(Self.prepare(inputs, skipInvalid: skipInvalid), now: now)
    }

    /// Why a line (nil: too long) is bad, or nil when it is not (blank, a record or a skipped line).
    static func problem(_ bytes: ArraySlice<UInt8>?) -> String? {
        guard let bytes else { return LineReader.tooLong }
        guard !isBlank(bytes), case .invalid(let reason) = COFLine.parse(bytes) else { return nil }
        return reason
    }

    /// Imports what `prepare` opened and checked, in order: batches of `batchSize` records, each stored
    /// (`store`) before the next chunk of the file is read.
    public func run(_ prepared: Prepared, now: Int64) async throws -> Summary {
        var summary = Summary()
        for (input, bytes) in prepared.items {
            /// Records parsed and not stored yet.
            var pending: [ImportedRecord] = []
            /// Stores `pending`'s full batches, and the rest when `all`.
            func flush(all: Bool) async throws {
                var start = 0
                while pending.count - start >= Self.batchSize || (all && start < pending.count) {
                    let end = min(pending.count, start + Self.batchSize)
                    summary.counts += try await store(Array(pending[start..<end]), source: input.source, now: now)
                    start = end
                }
                pending.removeFirst(start)
            }
            let each: (Int, ArraySlice<UInt8>?) throws -> Void = { number, bytes in
                guard let bytes else {
                    summary.read += 1
                    return try Self.invalid(input, number, LineReader.tooLong, prepared, &summary)
                }
                guard !Self.isBlank(bytes) else { return }
                summary.read += 1
                switch COFLine.parse(bytes) {
                case .record(let r):
                    pending.append(r)
                case .skipped(let reason):
                    summary.skipped[reason, default: 0] += 1
                case .invalid(let reason):
                    try Self.invalid(input, number, reason, prepared, &summary)
                }
            }
            var chunks: Chunks
            switch bytes {
            case .file(let reader, let checked):
                chunks = Chunks(reader, limit: checked)
            case .spool(let spool):
                chunks = Chunks(RegularFile.Reader(fileDescriptor: spool.fd, name: input.path))
            case .standardInput:
                chunks = Chunks(RegularFile.Reader(standardInputNamed: input.path))
            case .empty:
                continue
            }
            do {
                try await chunks.forEachLine(each, afterChunk: { try await flush(all: false) })
            } catch let changed as Changed {
                // What is before the changed line is stored; the line is not.
                try await flush(all: true)
                throw changed
            }
            try await flush(all: true)
        }
        return summary
    }

    /// A bad line met by `run`: counted (`skipInvalid`), else `Changed` (checked good before: the file
    /// changed since).
    private static func invalid(_ input: Input, _ number: Int, _ reason: String, _ prepared: Prepared, _ summary: inout Summary) throws {
        let line = BadLine(path: input.path, line: number, reason: reason)
        guard prepared.skipInvalid else { throw Changed(line: line) }
        summary.invalidTotal += 1
        if summary.invalid.count < BadLines.kept { summary.invalid.append(line) }
    }

    /// One batch: classified as a poll classifies its answers (cached origin ASNs; never a query), merged by
    /// `ImportPlan.merging` and written in one transaction (`ImportStore.importBatch`).
    private func store(_ batch: [ImportedRecord], source: String, now: Int64) async throws -> MergeCounts {
        let classifier = self.classifier
        return try await store.importBatch(batch, source: source, at: now, fingerprintVersion: classifier.version) { asns in
            let cache = ClassificationCache(classifier: classifier, asn: [:])
            cache.add(asns)
            return { r in SpanClassifier.combine(status: .noerror, verdicts: cache.verdicts(r.rrtype, r.rdata)) }
        }
    }

    static func isBlank(_ bytes: ArraySlice<UInt8>) -> Bool {
        bytes.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }
    }

    /// Standard input copied, as it is checked, to an unlinked temporary file of at most `limit` bytes:
    /// read again for the import.
    final class Spool {
        let fd: Int32
        let limit: Int
        var buffer: [UInt8] = []
        var written = 0

        init(limit: Int) throws {
            let dir = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
            var template = Array((dir + "/dnswatch-import-XXXXXX").utf8CString)
            let fd = template.withUnsafeMutableBufferPointer { buffer in buffer.baseAddress.map { mkstemp($0) } ?? -1 }
            guard fd >= 0 else { throw RegularFileError(path: dir, reason: "cannot create a temporary file: \(String(cString: strerror(errno)))") }
            unlink(String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
            self.fd = fd
            self.limit = limit
        }

        /// Appends a good line (and its newline) to what `drainIfFull` writes; throws `SpoolFull` past `limit`.
        func append(_ line: ArraySlice<UInt8>?) throws {
            if let line { buffer += line }
            buffer.append(UInt8(ascii: "\n"))
            guard written + buffer.count <= limit else { throw SpoolFull(limit: limit) }
        }

        /// Writes what is buffered once it holds 1 MiB (off the cooperative pool).
        func drainIfFull() async throws {
            guard buffer.count >= 1 << 20 else { return }
            let spool = Unchecked(self)
            try await FileIO.run { try spool.value.drain() }
        }

        private func drain() throws {
            var done = 0
            while done < buffer.count {
                let n = buffer[done...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                if n < 0 {
                    if errno == EINTR { continue }
                    throw RegularFileError(path: "standard input", reason: "cannot copy it to a temporary file: \(String(cString: strerror(errno)))")
                }
                done += n
            }
            written += buffer.count
            buffer.removeAll(keepingCapacity: true)
        }

        /// Writes what is buffered and goes back to the start, for reading `fd` (off the cooperative pool).
        func rewind() async throws {
            let spool = Unchecked(self)
            try await FileIO.run {
                try spool.value.drain()
                guard lseek(spool.value.fd, 0, SEEK_SET) == 0 else {
                    throw RegularFileError(path: "standard input", reason: "cannot read its temporary copy: \(String(cString: strerror(errno)))")
                }
            }
        }

        deinit { close(fd) }
    }
}

/// Where the import's blocking file calls run (a read of a regular file, or of standard input, which waits
/// for its writer; the spool's writes; opening a file): a global dispatch queue, while the calling task is
/// suspended. Never the cooperative pool, and no thread of dnswatch's own; the store is reached through its
/// async interface only.
enum FileIO {
    static func run<T>(_ body: @escaping () throws -> T) async throws -> T {
        let work = Unchecked(body)
        let result: Unchecked<Result<T, any Error>> = await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: Unchecked(Result { try work.value() })) }
        }
        return try result.value.get()
    }
}

/// A value handed to `FileIO`'s queue and back while its task waits: used by one of them at a time.
struct Unchecked<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

/// A file's chunks (64 KB), each read through `FileIO`, cut into lines as `LineReader` cuts them.
struct Chunks {
    private let reader: Unchecked<RegularFile.Reader>
    private let limit: Int?
    /// The bytes read so far.
    private(set) var total = 0

    /// `reader` from where it is, at most `limit` bytes when given.
    init(_ reader: RegularFile.Reader, limit: Int? = nil) {
        self.reader = Unchecked(reader)
        self.limit = limit
    }

    /// Calls `body` with each line's number and bytes (nil: too long), as `LineReader.forEachLine` does,
    /// and `afterChunk` once the lines of each chunk (and the last line) are handed out.
    mutating func forEachLine(_ body: (Int, ArraySlice<UInt8>?) throws -> Void, afterChunk: () async throws -> Void = {}) async throws {
        var splitter = LineReader.Splitter()
        while true {
            let want = limit.map { Swift.min($0 - total, 64 * 1024) } ?? 64 * 1024
            if want <= 0 { break }
            let reader = self.reader
            let chunk = try await FileIO.run { try reader.value.read(max: want) }
            if chunk.isEmpty { break }
            total += chunk.count
            try splitter.feed(chunk[...], body)
            try await afterChunk()
        }
        try splitter.finish(body)
        try await afterChunk()
    }
}
