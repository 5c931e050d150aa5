import Foundation
import Testing
@testable import Alerting

@Suite("FileSink and StdoutSink")
struct LocalSinkTests {
    @Test("FileSink appends one NDJSON line per alert, across sink instances")
    func fileAppends() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.file("alerts.ndjson")
        try "{\"id\":0}\n".write(toFile: path, atomically: false, encoding: .utf8)

        let sink = try FileSink(path: path)
        #expect(sink.key == "file:" + path)
        try await sink.deliver(alertJSON(1))
        try await sink.deliver(alertJSON(2) + [UInt8(ascii: "\n")])  // a trailing newline is tolerated
        try await FileSink(path: path, synchronize: false).deliver(alertJSON(3))

        let expected = "{\"id\":0}\n" + [1, 2, 3].map { String(decoding: alertJSON($0), as: UTF8.self) + "\n" }.joined()
        #expect(try dir.read("alerts.ndjson") == expected)
    }

    @Test("concurrent FileSink deliveries keep every line whole")
    func fileConcurrent() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let sink = try FileSink(path: dir.file("a.ndjson"), synchronize: false)
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
        defer { dir.remove() }
        let sink = try FileSink(path: dir.file("missing/alerts.ndjson"))
        let error = await #expect(throws: AlertSinkError.self) { try await sink.deliver(alertJSON(1)) }
        #expect(error?.reason == .io)
        #expect(error?.message.contains("no such file or directory") == true)
        #expect(!FileManager.default.fileExists(atPath: dir.file("missing")))
    }

    @Test("FileSink refuses an alert that is not one line")
    func fileRefusesMultiline() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let sink = try FileSink(path: dir.file("a.ndjson"))
        let error = await #expect(throws: AlertSinkError.self) { try await sink.deliver(Array("{\"a\":\n1}".utf8)) }
        #expect(error?.reason == .invalidAlert)
        await #expect(throws: AlertSinkError.self) { try await sink.deliver([]) }
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
