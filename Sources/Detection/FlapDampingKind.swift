public import DNSWatchModel

extension FlapDamping {
    /// The kind whose figures damp a domain on lists of `kinds`: the first in the order c2, owned, expired
    /// (c2 when it is on no list).
    public static func kind(of kinds: some Sequence<ListKind>) -> ListKind {
        let kinds = Set(kinds)
        return [ListKind.c2, .owned, .expired].first(where: kinds.contains) ?? .c2
    }

    /// A domain's flap damping: that of ``kind(of:)`` in the config's figures per kind (`[damping]`,
    /// `[damping.KIND]`; a kind not given: the defaults). The one rule the poll and `explain` both use.
    public static func of(kinds: some Sequence<ListKind>, in table: [ListKind: FlapDamping]) -> FlapDamping {
        table[kind(of: kinds)] ?? .defaults
    }
}
