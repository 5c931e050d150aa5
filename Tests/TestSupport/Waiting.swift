import Foundation

/// Waits until `condition` holds, checked every `every` milliseconds; false after `timeout` seconds.
/// Tests wait on conditions, never on the clock: the bound is generous (a loaded machine is slow, not wrong)
/// and only ends a wait that would otherwise never end.
public func eventually(timeout: Double = 30, every ms: Int = 5, _ condition: () async throws -> Bool) async throws -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if try await condition() { return true }
        try await Task.sleep(for: .milliseconds(ms))
    }
    return try await condition()
}

/// Waits until `condition` holds; throws `TestSupportError.notReady(what)` after `timeout` seconds, so the
/// failure says what never happened.
public func waitUntil(_ what: @autoclosure () -> String, timeout: Double = 30, every ms: Int = 5,
                      _ condition: () async throws -> Bool) async throws {
    guard try await eventually(timeout: timeout, every: ms, condition) else {
        throw TestSupportError.notReady("\(what()) (waited \(Int(timeout)) s)")
    }
}
