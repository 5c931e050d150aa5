import Foundation
import Synchronization
import TestSupport

extension TemporaryDirectory {
    /// The text of `name` inside the directory.
    func read(_ name: String) throws -> String {
        try String(contentsOfFile: path(name), encoding: .utf8)
    }
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
