public import Classification
import DNSWatchModel
import Detection
import Foundation
public import HistoryStore
#if canImport(Glibc)
import Glibc
#endif

/// `dnswatch import cof`: other sensors' passive DNS (COF NDJSON, `COFLine`) stored as spans of their
/// source, classified as polled spans are, merged per (name, type, rdata set, source) (`mergeImported`).
///
/// Streaming: files are read line by line and written in batches of `batchSize` records, one write
/// transaction each, so memory holds one batch whatever the input's size. "Nothing stored on a bad line"
/// is a first pass that only parses (standard input is copied to an unlinked temporary file on the way,
/// to be read again); with `skipInvalid` there is one pass. The work runs on a thread of its own (file
/// reads and the store's writes block), never on the cooperative pool.
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

    /// Imports the inputs in order. Throws `BadLines` (nothing stored) when a line is bad, unless `skipInvalid`.
    public func run(_ inputs: [Input], skipInvalid: Bool, now: Int64) async throws -> Summary {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Summary, any Error>) in
            let thread = Thread {
                continuation.resume(with: Result { try self.runBlocking(inputs, skipInvalid: skipInvalid, now: now) })
            }
            thread.name = "dnswatch-import"
            thread.start()
        }
    }

    /// `run` on the caller's thread (which must not be one of the cooperative pool).
    func runBlocking(_ inputs: [Input], skipInvalid: Bool, now: Int64) throws -> Summary {
        var spool: Spool?
        if !skipInvalid {
            var bad: [BadLine] = []
            var total = 0
            for input in inputs {
                let copy = input.path == "-" && spool == nil ? try Spool() : nil
                try LineReader.forEachLine(input.path) { number, bytes in
                    try copy?.append(bytes)
                    guard let bytes else {
                        total += 1
                        if bad.count < BadLines.kept { bad.append(BadLine(path: input.path, line: number, reason: Self.tooLong)) }
                        return
                    }
                    guard !Self.isBlank(bytes), case .invalid(let reason) = COFLine.parse(bytes) else { return }
                    total += 1
                    if bad.count < BadLines.kept { bad.append(BadLine(path: input.path, line: number, reason: reason)) }
                }
                if let copy {
                    try copy.rewind()
                    spool = copy
                }
            }
            guard total == 0 else { throw BadLines(lines: bad, total: total) }
        }
        var summary = Summary()
        for input in inputs {
            var batch: [ImportedRecord] = []
            batch.reserveCapacity(Self.batchSize)
            func flush() throws {
                guard !batch.isEmpty else { return }
                summary.counts += try store(batch, source: input.source, now: now)
                batch.removeAll(keepingCapacity: true)
            }
            let each: (Int, ArraySlice<UInt8>?) throws -> Void = { number, bytes in
                guard let bytes else {
                    summary.read += 1
                    summary.invalidTotal += 1
                    if summary.invalid.count < BadLines.kept { summary.invalid.append(BadLine(path: input.path, line: number, reason: Self.tooLong)) }
                    return
                }
                guard !Self.isBlank(bytes) else { return }
                summary.read += 1
                switch COFLine.parse(bytes) {
                case .record(let r):
                    batch.append(r)
                    if batch.count >= Self.batchSize { try flush() }
                case .skipped(let reason):
                    summary.skipped[reason, default: 0] += 1
                case .invalid(let reason):
                    summary.invalidTotal += 1
                    if summary.invalid.count < BadLines.kept { summary.invalid.append(BadLine(path: input.path, line: number, reason: reason)) }
                }
            }
            if input.path == "-", let spool {
                try LineReader.forEachLine(fileDescriptor: spool.fd, name: input.path, each)
            } else {
                try LineReader.forEachLine(input.path, each)
            }
            try flush()
        }
        return summary
    }

    /// One batch in one write transaction: classified as a poll classifies its answers (cached origin
    /// ASNs; never a query), then merged.
    private func store(_ batch: [ImportedRecord], source: String, now: Int64) throws -> MergeCounts {
        let classifier = self.classifier
        return try store.importBatchBlocking(batch, source: source, at: now, fingerprintVersion: classifier.version) { asns in
            let cache = ClassificationCache(classifier: classifier, asn: [:])
            cache.add(asns)
            return { r in SpanClassifier.combine(status: .noerror, verdicts: cache.verdicts(r.rrtype, r.rdata)) }
        }
    }

    static let tooLong = "line longer than \(LineReader.maxLineLength) bytes"

    static func isBlank(_ bytes: ArraySlice<UInt8>) -> Bool {
        bytes.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }
    }

    /// Standard input copied, as it is read, to an unlinked temporary file: read again for the second pass.
    private final class Spool {
        let fd: Int32
        var buffer: [UInt8] = []

        init() throws {
            let dir = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
            var template = Array((dir + "/dnswatch-import-XXXXXX").utf8CString)
            let fd = template.withUnsafeMutableBufferPointer { buffer in buffer.baseAddress.map { mkstemp($0) } ?? -1 }
            guard fd >= 0 else { throw RegularFileError(path: dir, reason: "cannot create a temporary file: \(String(cString: strerror(errno)))") }
            unlink(String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
            self.fd = fd
        }

        func append(_ line: ArraySlice<UInt8>?) throws {
            // A line too long to read is bad: the first pass refuses the import, so its bytes are not needed.
            if let line { buffer += line }
            buffer.append(UInt8(ascii: "\n"))
            if buffer.count >= 1 << 20 { try drain() }
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
            buffer.removeAll(keepingCapacity: true)
        }

        /// Writes what is buffered and goes back to the start, for reading `fd`.
        func rewind() throws {
            try drain()
            guard lseek(fd, 0, SEEK_SET) == 0 else {
                throw RegularFileError(path: "standard input", reason: "cannot read its temporary copy: \(String(cString: strerror(errno)))")
            }
        }

        deinit { close(fd) }
    }
}
