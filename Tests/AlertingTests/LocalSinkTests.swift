import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing
import TestSupport
@testable import Alerting

@Suite("FileSink and StdoutSink")
struct LocalSinkTests {
    @Test("FileSink appends one NDJSON line per alert, across sink instances")
    func fileAppends() async throws {
        let dir = try TemporaryDirectory()
        let path = dir.path("alerts.ndjson")
        try "{\"id\":0}\n".write(toFile: path, atomically: false, encoding: .utf8)

        let sink = try FileSink(path: path)
        #expect(sink.key == "file:" + path)
        try await sink.deliver(alertJSON(1))
        try await sink.deliver(alertJSON(2) + [UInt8(ascii: "\n")])  // a trailing newline is tolerated
        try await FileSink(path: path, synchronize: false).deliver(alertJSON(3))

        let expected = "{\"id\":0}\n" + [1, 2, 3].map { String(decoding: alertJSON($0), as: UTF8.self) + "\n" }.joined()
        #expect(try dir.read("alerts.ndjson") == expected)
    }

    @Test("FileSink creates the file with the mode it is given (file_mode), whatever the umask")
    func fileModeGiven() async throws {
        let dir = try TemporaryDirectory()
        try await FileSink(path: dir.path("group.ndjson"), fileMode: 0o640).deliver(alertJSON(1))
        try await FileSink(path: dir.path("owner.ndjson")).deliver(alertJSON(1))
        let modes = try ["group.ndjson", "owner.ndjson"].map {
            try #require(try FileManager.default.attributesOfItem(atPath: dir.path($0))[.posixPermissions] as? NSNumber).intValue
        }
        #expect(modes == [0o640, 0o600])
        #expect(throws: AlertSinkError.self) { try FileSink(path: dir.path("x"), fileMode: 0o666) }
    }

    @Test("concurrent FileSink deliveries keep every line whole")
    func fileConcurrent() async throws {
        let dir = try TemporaryDirectory()
        let sink = try FileSink(path: dir.path("a.ndjson"), synchronize: false)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for n in 0..<64 { group.addTask { try await sink.deliver(alertJSON(n)) } }
            try await group.waitForAll()
        }
        let lines = try dir.read("a.ndjson").split(separator: "\n").map(String.init)
        #expect(lines.count == 64)
        #expect(Set(lines) == Set((0..<64).map { String(decoding: alertJSON($0), as: UTF8.self) }))
    }

    @Test("FileSink fails, without creating it, when the directory does not exist")
    func fileMissingDirectory() async throws {
        let dir = try TemporaryDirectory()
        let sink = try FileSink(path: dir.path("missing/alerts.ndjson"))
        let error = await #expect(throws: AlertSinkError.self) { try await sink.deliver(alertJSON(1)) }
        #expect(error?.reason == .io)
        #expect(error?.message.contains("no such file or directory") == true)
        #expect(!FileManager.default.fileExists(atPath: dir.path("missing")))
    }

    @Test("FileSink refuses an alert that is not one line")
    func fileRefusesMultiline() async throws {
        let dir = try TemporaryDirectory()
        let sink = try FileSink(path: dir.path("a.ndjson"))
        let error = await #expect(throws: AlertSinkError.self) { try await sink.deliver(Array("{\"a\":\n1}".utf8)) }
        #expect(error?.reason == .invalidAlert)
        await #expect(throws: AlertSinkError.self) { try await sink.deliver([]) }
    }

    #if os(Linux)
    @Test("a FIFO with no reader in place of the alerts file fails at once instead of blocking", .timeLimit(.minutes(1)))
    func fileFIFONeverBlocks() async throws {
        let dir = try TemporaryDirectory()
        let path = dir.path("alerts.ndjson")
        #expect(FileSink.problem(path: path) == nil, "a file yet to be created is fine")
        try #require(mkfifo(path, 0o600) == 0)
        #expect(FileSink.problem(path: path)?.contains("FIFO") == true)
        let sink = try FileSink(path: path)
        // A blocking open would wait for a reader for ever (the time limit ends that as a failure); the
        // non-blocking one fails with ENXIO, which the message names.
        let error = await #expect(throws: AlertSinkError.self) { try await sink.deliver(alertJSON(1)) }
        #expect(error?.reason == .io)
        #expect(error?.message.contains(path) == true)
        #expect(error?.message.contains("a FIFO with no reader") == true)
    }
    #endif

    @Test("a symbolic link in place of the alerts file is not followed")
    func fileSymlinkRefused() async throws {
        let dir = try TemporaryDirectory()
        try "".write(toFile: dir.path("target"), atomically: false, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: dir.path("link"), withDestinationPath: dir.path("target"))
        #expect(FileSink.problem(path: dir.path("link"))?.contains("symbolic link") == true)
        let error = await #expect(throws: AlertSinkError.self) { try await FileSink(path: dir.path("link")).deliver(alertJSON(1)) }
        #expect(error?.message.contains("symbolic link") == true)
        #expect(try dir.read("target").isEmpty)
        #expect(FileSink.problem(path: dir.path)?.contains("directory") == true)
        #expect(FileSink.problem(path: dir.path("missing/a.ndjson"))?.contains("does not exist") == true)
    }

    @Test("an alerts file created by the sink is 0600 whatever the umask; an existing file keeps its mode")
    func fileMode() async throws {
        let dir = try TemporaryDirectory()
        let old = umask(0)
        defer { umask(old) }
        try await FileSink(path: dir.path("new.ndjson")).deliver(alertJSON(1))
        let created = try FileManager.default.attributesOfItem(atPath: dir.path("new.ndjson"))
        #expect((created[.posixPermissions] as? NSNumber)?.intValue == 0o600)

        _ = umask(0o277)
        try await FileSink(path: dir.path("new2.ndjson")).deliver(alertJSON(1))
        let narrow = try FileManager.default.attributesOfItem(atPath: dir.path("new2.ndjson"))
        #expect((narrow[.posixPermissions] as? NSNumber)?.intValue == 0o600)

        try "".write(toFile: dir.path("old.ndjson"), atomically: false, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: dir.path("old.ndjson"))
        try await FileSink(path: dir.path("old.ndjson")).deliver(alertJSON(1))
        let existing = try FileManager.default.attributesOfItem(atPath: dir.path("old.ndjson"))
        #expect((existing[.posixPermissions] as? NSNumber)?.intValue == 0o644)
    }

    @Test("a relative FileSink path becomes absolute in the key")
    func fileRelativePath() async throws {
        let sink = try FileSink(path: "logs/../alerts.ndjson")
        #expect(sink.key == "file:" + FileManager.default.currentDirectoryPath + "/alerts.ndjson")
        #expect(throws: AlertSinkError.self) { try FileSink(path: "") }
    }

    @Test("StdoutSink writes whole lines, also when used concurrently")
    func stdoutLines() async throws {
        let captured = Locked<[UInt8]>([])
        let sink = StdoutSink { line in captured.withLock { $0.append(contentsOf: line) } }
        #expect(sink.key == "stdout")
        try await withThrowingTaskGroup(of: Void.self) { group in
            for n in 0..<100 { group.addTask { try await sink.deliver(alertJSON(n)) } }
            try await group.waitForAll()
        }
        let text = captured.withLock { String(decoding: $0, as: UTF8.self) }
        #expect(text.hasSuffix("\n"))
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
        #expect(lines.count == 100)
        #expect(Set(lines) == Set((0..<100).map { String(decoding: alertJSON($0), as: UTF8.self) }))
    }

    @Test("StdoutSink writes to a file handle and reports write errors")
    func stdoutFileHandle() async throws {
        let pipe = Pipe()
        let sink = StdoutSink(fileHandle: pipe.fileHandleForWriting)
        try await sink.deliver(alertJSON(5))
        try pipe.fileHandleForWriting.close()
        let data = try pipe.fileHandleForReading.readToEnd() ?? Data()
        #expect(Array(data) == alertJSON(5) + [UInt8(ascii: "\n")])

        struct Broken: Error {}
        let failing = StdoutSink(key: "stdout") { _ in throw Broken() }
        let error = await #expect(throws: AlertSinkError.self) { try await failing.deliver(alertJSON(1)) }
        #expect(error?.reason == .io)
    }
}
