#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a file the user named (or standard input) line by line in 64 KB chunks: memory holds one chunk
/// and one line, whatever the file's size. A path is opened as `RegularFile` opens one (only a regular
/// file, never blocking on a FIFO or a device); `-` is standard input, whatever it is.
public enum LineReader {
    /// The longest line handed to `body`; a longer one is handed as nil (and skipped to its end).
    public static let maxLineLength = 1 << 20

    /// Calls `body` with each line's number (from 1) and bytes (without `\n` or `\r\n`; nil for a line
    /// longer than `maxLineLength`). A final line without a newline counts; an empty file has no lines.
    public static func forEachLine(_ path: String, _ body: (Int, ArraySlice<UInt8>?) throws -> Void) throws {
        try forEachLine(path == "-" ? RegularFile.Reader(standardInputNamed: path) : RegularFile.Reader(path: path), body)
    }

    /// `forEachLine` of an open descriptor, from where it is; `name` names it in errors.
    public static func forEachLine(fileDescriptor fd: Int32, name path: String, _ body: (Int, ArraySlice<UInt8>?) throws -> Void) throws {
        try forEachLine(RegularFile.Reader(fileDescriptor: fd, name: path), body)
    }

    /// `forEachLine` of the chunks a reader gives (``RegularFile/Reader``: the one way dnswatch reads a file).
    public static func forEachLine(_ reader: RegularFile.Reader, _ body: (Int, ArraySlice<UInt8>?) throws -> Void) throws {
        var pending: [UInt8] = []
        var tooLong = false
        var number = 0
        func emit(_ line: ArraySlice<UInt8>) throws {
            number += 1
            if tooLong || pending.count + line.count > maxLineLength {
                tooLong = false
                try body(number, nil)
                return
            }
            var bytes = line
            if !pending.isEmpty {
                pending += line
                bytes = pending[...]
            }
            if bytes.last == UInt8(ascii: "\r") { bytes = bytes.dropLast() }
            try body(number, bytes)
        }
        while true {
            let chunk = try reader.read()
            let n = chunk.count
            if n == 0 { break }
            var start = 0
            while start < n, let nl = chunk[start..<n].firstIndex(of: UInt8(ascii: "\n")) {
                try emit(chunk[start..<nl])
                pending.removeAll(keepingCapacity: true)
                start = nl + 1
            }
            if start < n {
                if tooLong || pending.count + (n - start) > maxLineLength {
                    tooLong = true
                    pending.removeAll(keepingCapacity: true)
                } else {
                    pending += chunk[start..<n]
                }
            }
        }
        if !pending.isEmpty || tooLong {
            try emit(pending[pending.endIndex...])
        }
    }
}
