/// 64-bit FNV-1a: a fast, stable (across runs and versions) non-cryptographic hash, used where a value
/// must be the same on every run: a domain's answer hash (stored in the database) and its due-time jitter.
public struct FNV1a: Sendable {
    public private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325
    private static let prime: UInt64 = 0x0000_0100_0000_01b3

    public init() {}

    public mutating func mix(_ byte: UInt8) {
        value = (value ^ UInt64(byte)) &* Self.prime
    }

    public mutating func mix(_ text: String) {
        for byte in text.utf8 { mix(byte) }
    }
}
