import DNSWatchModel
import Testing

/// FNV-1a's output is stored (a domain's answer hash in `domain_status.answer_hash`, the fingerprint and
/// warning-list versions on spans and states) and spreads due times: it must never change. Pinned here with
/// the reference vectors of its authors, so a change of width, offset basis, prime or order (FNV-1 multiplies
/// before the xor) fails.
///
/// Vectors: `fnv1a_64_vector[]` of test_fnv.c (Landon Curt Noll, public domain, revision 5.3 2009/06/30,
/// http://www.isthe.com/chongo/tech/comp/fnv/ — the FNV-1a 64-bit values of its `fnv_test_str[]`; `TEST0`
/// strings include their trailing NUL byte). The first three are also in draft-eastlake-fnv's test vectors.
@Suite struct FNV1aTests {
    static let vectors: [(input: [UInt8], hash: UInt64)] = [
        (Array("".utf8), 0xcbf2_9ce4_8422_2325),  // fnv_test_str[0]: the offset basis itself
        (Array("a".utf8), 0xaf63_dc4c_8601_ec8c),  // [1]
        (Array("foobar".utf8), 0x8594_4171_f739_67e8),  // [11]
        ([0x00], 0xaf63_bd4c_8601_b7df),  // [12] TEST0("")
        (Array("chongo was here!\n".utf8), 0x4681_0940_eff5_f915),  // [39]
        (Array("hello".utf8), 0xa430_d846_80aa_bd0b),  // [86]
        ([0xff, 0x00, 0x00, 0x01], 0x6961_1964_91cc_682d),  // [88]: bytes above 0x7f
        (Array("127.0.0.1".utf8), 0xaaba_fe71_04d9_14be),  // [102]
        (Array("127.0.0.1".utf8) + [0x00], 0xf4d3_180b_3cde_3eda),  // [103] TEST0("127.0.0.1")
    ]

    @Test(arguments: vectors.indices)
    func referenceVectorByBytes(_ i: Int) {
        let (input, expected) = Self.vectors[i]
        var h = FNV1a()
        for b in input { h.mix(b) }
        #expect(h.value == expected, "FNV-1a 64 of \(input)")
    }

    /// `mix(String)` hashes the UTF-8 bytes, the same as feeding them one by one.
    @Test func textIsItsUTF8Bytes() {
        for (text, expected): (String, UInt64) in [("", 0xcbf2_9ce4_8422_2325), ("a", 0xaf63_dc4c_8601_ec8c),
                                                  ("foobar", 0x8594_4171_f739_67e8), ("127.0.0.1", 0xaaba_fe71_04d9_14be)] {
            var h = FNV1a()
            h.mix(text)
            #expect(h.value == expected, "FNV-1a 64 of \"\(text)\"")
        }
        // A name off the wire beyond ASCII: hashed as its UTF-8 bytes (ü = C3 BC).
        var text = FNV1a(), bytes = FNV1a()
        text.mix("müller.example")
        for b in Array("müller.example".utf8) { bytes.mix(b) }
        #expect(text.value == bytes.value)
    }

    /// Hashing in pieces is hashing the whole: `mix("foo")` then `mix("bar")` is FNV-1a of "foobar".
    @Test func piecesChainLikeTheWhole() {
        var h = FNV1a()
        h.mix("foo")
        h.mix("bar")
        #expect(h.value == 0x8594_4171_f739_67e8)
    }
}
