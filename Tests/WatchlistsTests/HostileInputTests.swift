import Foundation
import Testing
import DNSWatchModel
@testable import Watchlists
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// Hostile watchlists (hardening issue, rows 1, 11 and 12, parser side).
@Suite struct IntervalBoundsTests {
    @Test(arguments: [
        "# interval: 9223372036854775807s", "# interval: 106751991167300d", "# interval: 200000000000000d",
        "# interval: 9223372036854775807", "# interval: 366d", "# interval: 53w", "# interval: 99999999999999999999",
    ])
    func hugeIntervalsAreInvalidLines(line: String) {
        let list = parse("# kind: c2", line, "a.example", path: "lists/x.txt")
        #expect(list.invalid.map(\.description) == ["lists/x.txt:2: interval out of range (1s to 365d)"])
        #expect(list.header.interval == nil)
        #expect(list.entries.count == 1)
    }

    @Test func theBoundsThemselvesAreAccepted() {
        #expect(parse("# interval: 365d", "a.example").header.interval == 365 * 86400)
        #expect(parse("# interval: 1s", "a.example").header.interval == 1)
        #expect(parse("# interval: 1", "a.example").header.interval == 1)
        #expect(PollInterval.range == 1...(365 * 86400))
    }
}

@Suite struct ControlBytesInMessagesTests {
    @Test func escapeInAnEntryIsShownVisibly() {
        let list = parse("a.example", "evil\u{1B}[2J.example", "x\u{0}y.example", path: "t.txt")
        #expect(list.invalid.count == 2)
        for line in list.invalid {
            #expect(!line.description.unicodeScalars.contains { $0.properties.generalCategory == .control },
                    "\(line.description.debugDescription)")
        }
        #expect(list.invalid.first?.description == "t.txt:2: bad character '\\x1b'")
        #expect(list.invalid.first?.text == "evil\u{1B}[2J.example", "the line itself is kept as it was")
    }

    @Test func headerValuesAreQuotedVisibly() {
        let list = parse("# kind: c2\u{1B}]0;pwned\u{7}", "# interval: 1\u{1B}h", "a.example")
        #expect(list.invalid.map(\.description) == [
            "t.txt:1: unknown kind 'c2\\x1b]0;pwned\\x07' (expected c2, owned, expired)",
            "t.txt:2: bad interval '1\\x1bh' (expected a duration such as 30m, 1h, 6h)",
        ])
    }

    @Test func portsAndPathsAreQuotedVisibly() {
        let list = parse("host.example:8\u{1B}0", path: "dir/ev\u{1B}il.txt")
        #expect(list.invalid.map(\.description) == ["dir/ev\\x1bil.txt:1: bad port '8\\x1b0'"])
        #expect(WatchlistReadError(path: "a\u{1B}b", reason: "no such file").description == "a\\x1bb: cannot read: no such file")
    }
}

@Suite struct ListNameTests {
    @Test(arguments: ["", "   ", "a\nb", "c2\u{1B}[31m", "x\u{0}", "tab\tbed", "del\u{7F}", "c1\u{85}", "bad\u{FFFD}"])
    func badNamesAreRefused(name: String) {
        #expect(throws: ListNameError.self) { try ListName.validate(name) }
    }

    @Test(arguments: ["c2-ursnif", "owned", "v1.2", "Ursnif C&C (vendor)", "bücher", "例え"])
    func goodNamesPass(name: String) throws {
        try ListName.validate(name)
    }

    @Test func reasonsAreReadable() {
        #expect(throws: ListNameError(name: "", reason: "empty list name")) { try ListName.validate("") }
        #expect(throws: ListNameError(name: "a\u{1B}b", reason: "list name 'a\\x1bb' holds a control character")) {
            try ListName.validate("a\u{1B}b")
        }
        #expect(ListNameError(name: "a\nb", reason: "list name 'a\\x0ab' holds a control character").description
            == "list name 'a\\x0ab' holds a control character")
    }
}

@Suite struct NonRegularFileTests {
    /// Runs `parse(fileAt:)` on a thread of its own (a blocked read would hold it, not the test's pool). A
    /// read still blocked after 30 s is an issue, and the FIFO's other end is then opened so that it returns.
    func parseWithoutBlocking(_ path: String) async -> Result<ParsedWatchlist, WatchlistReadError> {
        let watchdog = Task {
            try await Task.sleep(for: .seconds(30))
            Issue.record("parse(fileAt:) blocked on \(path)")
            let fd = open(path, O_WRONLY | O_NONBLOCK)
            if fd >= 0 { close(fd) }
        }
        defer { watchdog.cancel() }
        return await withCheckedContinuation { done in
            Thread.detachNewThread {
                done.resume(returning: Result { () throws(WatchlistReadError) in try WatchlistParser.parse(fileAt: path) })
            }
        }
    }

    @Test func aFIFOIsRefusedWithoutBlocking() async throws {
        let dir = try TemporaryDirectory("fifo")
        let fifo = dir.url.appendingPathComponent("list.txt").path
        #expect(mkfifo(fifo, 0o600) == 0)
        switch await parseWithoutBlocking(fifo) {
        case .success:
            Issue.record("a FIFO was read as a watchlist")
        case .failure(let error):
            #expect(error == WatchlistReadError(path: fifo, reason: "not a regular file (a FIFO)"))
            #expect(!error.description.contains("NSCocoaErrorDomain") && !error.description.contains("permission"))
        }
    }

    @Test func anUnreadableFileSaysSoPlainly() throws {
        let dir = try TemporaryDirectory("perm")
        // Paths no one can read, root included: the reason is the system's sentence, never Foundation's domain.
        let loop = dir.path("loop.txt")
        #expect(symlink(loop, loop) == 0)
        let throughAFile = try dir.write("plain.txt", "a.example\n") + "/list.txt"
        for (path, reason) in [(loop, "Too many levels of symbolic links"), (throughAFile, "Not a directory")] {
            #expect(throws: WatchlistReadError(path: path, reason: reason)) { try WatchlistParser.parse(fileAt: path) }
        }
        // A file of mode 0000: refused with "Permission denied", except to root, who reads it whole.
        let path = try dir.write("list.txt", "a.example\n")
        #expect(chmod(path, 0) == 0)
        if geteuid() == 0 {
            #expect(try WatchlistParser.parse(fileAt: path).entries.map(\.domain) == [try name("a.example")])
        } else {
            #expect(throws: WatchlistReadError(path: path, reason: "Permission denied")) { try WatchlistParser.parse(fileAt: path) }
        }
    }

    @Test func aSymlinkToARegularFileIsRead() throws {
        let dir = try TemporaryDirectory("link")
        let target = dir.url.appendingPathComponent("real.txt").path
        let link = dir.url.appendingPathComponent("link.txt").path
        #expect(FileManager.default.createFile(atPath: target, contents: Data("# kind: owned\na.example\nb.example\n".utf8)))
        #expect(symlink(target, link) == 0)
        let list = try WatchlistParser.parse(fileAt: link)
        #expect(list.name == "link" && list.entries.count == 2 && list.header.kind == .owned)
    }

    @Test func anEmptyFileIsAnEmptyList() throws {
        let dir = try TemporaryDirectory("empty")
        let path = dir.url.appendingPathComponent("empty.txt").path
        #expect(FileManager.default.createFile(atPath: path, contents: Data()))
        let list = try WatchlistParser.parse(fileAt: path)
        #expect(list.entries.isEmpty && list.invalid.isEmpty)
    }
}

/// Issue 19: U+FFFD and format characters in list names (`VisibleText` escapes both now).
@Suite struct ListNameInvisibleTests {
    @Test func replacementCharacterIsInvalidUTF8AndFormatCharactersAreRefused() {
        #expect(throws: ListNameError(name: "bad\u{FFFD}", reason: "list name 'bad\\u{FFFD}' is not valid UTF-8")) { try ListName.validate("bad\u{FFFD}") }
        #expect(throws: ListNameError(name: "c2\u{200B}", reason: "list name 'c2\\u{200B}' holds a control character")) { try ListName.validate("c2\u{200B}") }
    }
}
