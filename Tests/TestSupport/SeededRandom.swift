import Foundation

/// A reproducible source of random test inputs: SplitMix64 from a seed that is logged, so a failure can be
/// replayed with `DNSWATCH_TEST_SEED=<seed>`.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    public let seed: UInt64
    private var state: UInt64

    /// The seed of `$DNSWATCH_TEST_SEED` when set, otherwise a fresh one; either way printed on stderr with
    /// `label`, so the run that failed can be repeated.
    public init(_ label: String) {
        let given = ProcessInfo.processInfo.environment["DNSWATCH_TEST_SEED"].flatMap { UInt64($0) }
        self.init(seed: given ?? UInt64.random(in: 0...UInt64.max))
        FileHandle.standardError.write(Data("\(label): seed \(seed) (replay with DNSWATCH_TEST_SEED=\(seed))\n".utf8))
    }

    public init(seed: UInt64) {
        self.seed = seed
        state = seed
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
