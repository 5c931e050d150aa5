import Foundation
import Synchronization

/// A fresh directory under the system temporary directory, removed by `remove()`.
struct TemporaryDirectory {
    let path: String

    init() throws {
        path = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("dnswatch-alerting-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> String { path + "/" + name }

    func read(_ name: String) throws -> String {
        try String(contentsOfFile: file(name), encoding: .utf8)
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// Alert JSON for delivery number `n`.
func alertJSON(_ n: Int) -> [UInt8] {
    Array(#"{"id":\#(n),"type":"new-ip","domain":"d\#(n).example","message":"a \"quoted\" word"}"#.utf8)
}

/// A value shared between tasks, behind a `Mutex`.
final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    init(_ value: Value) { mutex = Mutex(value) }

    func withLock<R: Sendable>(_ body: (inout sending Value) throws -> R) rethrows -> R {
        try mutex.withLock { value in try body(&value) }
    }
}
