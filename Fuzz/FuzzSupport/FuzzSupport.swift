import DNSWatchModel

// The checks the libFuzzer targets share (docs/fuzzing.md). A failed check traps, and libFuzzer keeps the input.

/// A message shown to a user (an error, a refusal, a skip reason) must not carry a raw control or format
/// character: they are made visible (`VisibleText`).
public func requireVisible(_ message: String) {
    if message.unicodeScalars.contains(where: { VisibleText.needsEscape($0) }) {
        fatalError("raw control character in message: \(message.debugDescription)")
    }
}

/// A name dnswatch accepted and stores: ASCII, and it parses to itself (normalisation is idempotent).
public func requireNormalisedName(_ name: String) {
    guard name.utf8.allSatisfy({ $0 < 0x80 }) else { fatalError("non-ASCII name accepted: \(name.debugDescription)") }
    do {
        guard try DomainName(name).value == name else { fatalError("name not normalised: \(name)") }
    } catch {
        fatalError("\(name) was accepted but does not parse again: \(error)")
    }
}
