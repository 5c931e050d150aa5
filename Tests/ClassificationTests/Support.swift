import Foundation
import Testing
@testable import Classification
import DNSWatchModel

/// The package root, from this file's location (Tests/ClassificationTests/Support.swift).
let packageRoot: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

func ip(_ s: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> IPAddress {
    try #require(IPAddress(s), "bad test address \(s)", sourceLocation: sourceLocation)
}

func cidr(_ s: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> CIDR {
    try #require(CIDR(s), "bad test CIDR \(s)", sourceLocation: sourceLocation)
}

/// The highest address of a block.
func lastAddress(_ c: CIDR) -> IPAddress? {
    var bytes = c.network.bytes
    for i in 0..<bytes.count {
        let hostBits = max(0, min(8, (i + 1) * 8 - c.prefixLength))
        if hostBits > 0 { bytes[i] |= UInt8(truncatingIfNeeded: (1 << hostBits) - 1) }
    }
    return IPAddress(bytes: bytes)
}

/// The classifier over the shipped fingerprints, parsed once; a parse error is kept and thrown by `shipped()`.
let embeddedClassifier: Result<Classifier, any Error> = Result { Classifier(fingerprints: try FingerprintSet.embedded()) }

/// The classifier over the shipped fingerprints (throws the embedded file's parse error, if any).
func shipped() throws -> Classifier {
    try embeddedClassifier.get()
}
