#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a file the user named (or standard input) line by line in 64 KB chunks: memory holds one chunk
/// and one line, whatever the file's size. A path is opened as `RegularFile` opens one (only a regular
/// file, never blocking on a FIFO or a device); `-` is standard input, whatever it is.
///
/// One rule for every line-oriented input (COF, IoC feeds, watchlists): a line (the bytes before a `\n`)
/// is at most `maxLineLength` bytes; a longer one is refused with the reason `tooLong`, as soon as it
/// passes the limit (a stream without a newline, `/dev/zero`, is not read to its end first).
public enum LineReader {
    /// The longest line handed out; a longer one is handed as nil (and skipped to its end).
    public static let maxLineLength = 1 << 20

    /// The reason a longer line is refused, in every reader's `FILE:LINE: reason`.
    public static let tooLong = "line longer than \(maxLineLength) bytes (1 MiB)"

    /// Calls `body` with each line's number (from 1) and bytes (without `\n` or `\r\n`; nil for a line
    /// longer than `maxLineLength`). A final line without a newline counts; an empty file has no lines.
    public static func forEachLine(_ path: String, _ body: (Int, ArraySlice<UInt8>?) throws -> Void) throws {
        try forEachLine(path == "-" ? RegularFile.Reader(standardInputNamed: path) : RegularFile.Reader(path: path), body)
    }

    /// `forEachLine` of an open descriptor, from where it is; `name` names it in errors.
    public static func forEachLine(fileDescriptor fd: Int32, name path: String, _ body: (Int, ArraySlice<UInt8>?) throws -> Void) throws {
        try forEachLine(RegularFile.Reader(fileDescriptor: fd, name: path), body)
    }

    /// `forEachLine` of the chunks a reader gives (``RegularFile/Reader``: the one way dnswatch reads a file),
    /// from where it is, reading at most `limit` bytes when given. Returns the number of bytes read.
    @discardableResult
    public static func forEachLine(_ reader: RegularFile.Reader, limit: Int? = nil, _ body: (Int, ArraySlice<UInt8>?) throws -> Void) throws -> Int {
        var splitter = Splitter()
        var total = 0
        while true {
            let want = limit.map { Swift.min($0 - total, 64 * 1024) } ?? 64 * 1024
            if want <= 0 { break }
            let chunk = try reader.read(max: want)
            if chunk.isEmpty { break }
            total += chunk.count
            try splitter.feed(chunk[...], body)
        }
        try splitter.finish(body)
        return total
    }

    /// Cuts a stream of chunks into lines, as `forEachLine` hands them (for a reader that pulls its chunks
    /// itself): memory holds at most one line of `maxLineLength` bytes.
    public struct Splitter: Sendable {
        private var pending: [UInt8] = []
        /// In a line already handed out as too long: its bytes up to the next `\n` are dropped.
        private var skipping = false
        /// Lines handed out so far.
        public private(set) var count = 0

        public init() {}

        /// Hands out the lines `chunk` completes (and a line as soon as it is too long).
        public mutating func feed(_ chunk: ArraySlice<UInt8>, _ body: (Int, ArraySlice<UInt8>?) throws -> Void) rethrows {
            var start = chunk.startIndex
            while start < chunk.endIndex {
                let newline = chunk[start...].firstIndex(of: UInt8(ascii: "\n"))
                let end = newline ?? chunk.endIndex
                if skipping {
                    if newline != nil { skipping = false }
                } else if pending.count + (end - start) > LineReader.maxLineLength {
                    pending.removeAll(keepingCapacity: false)
                    skipping = newline == nil
                    count += 1
                    try body(count, nil)
                } else if newline != nil {
                    var bytes = chunk[start..<end]
                    if !pending.isEmpty {
                        pending += bytes
                        bytes = pending[...]
                    }
                    if bytes.last == UInt8(ascii: "\r") { bytes = bytes.dropLast() }
                    count += 1
                    try body(count, bytes)
                    pending.removeAll(keepingCapacity: true)
                } else {
                    pending += chunk[start..<end]
                }
                start = newline.map { $0 + 1 } ?? chunk.endIndex
            }
        }

        /// The end of the stream: hands out its last line when it has no newline.
        public mutating func finish(_ body: (Int, ArraySlice<UInt8>?) throws -> Void) rethrows {
            defer { (pending, skipping) = ([], false) }
            guard !pending.isEmpty, !skipping else { return }
            var bytes = pending[...]
            if bytes.last == UInt8(ascii: "\r") { bytes = bytes.dropLast() }
            count += 1
            try body(count, bytes)
        }
    }
}

extension RegularFile.Reader {
    /// Goes back to the start of the file, to read it again (a regular file; not standard input).
    public func rewind() throws(RegularFileError) {
        guard lseek(fd, 0, SEEK_SET) == 0 else { throw RegularFileError(path: path, reason: RegularFile.systemMessage(errno)) }
    }
}
