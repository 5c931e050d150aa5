/// The normalised value of an IoC: an address, an address block, or a domain name. Two indicators with
/// the same value (`1.2.3.4:80`, `http://1.2.3.4/x`) are one.
///
/// Normalised: an IPv4-mapped IPv6 address or block (`::ffff:1.2.3.4`) is its IPv4 one; a block's host
/// bits are masked (`10.1.2.3/8` is `10.0.0.0/8`); a block of full length (`/32`, `/128`) is its address;
/// a name is a ``DomainName`` (lower case, A-labels, no trailing dot).
public enum IndicatorValue: Sendable, Hashable, CustomStringConvertible {
    case address(IPAddress)
    case block(CIDR)
    case domain(DomainName)

    /// An address, normalised.
    public static func normalised(_ ip: IPAddress) -> IndicatorValue {
        normalised(CIDR(network: ip, prefixLength: ip.bytes.count * 8))
    }

    /// A block, normalised (a full-length block is an address).
    public static func normalised(_ block: CIDR) -> IndicatorValue {
        let b = block.unmapped
        return b.prefixLength == b.network.bytes.count * 8 ? .address(b.network) : .block(b)
    }

    /// The value as text: `192.0.2.1`, `10.0.0.0/8`, `example.com`.
    public var description: String {
        switch self {
        case .address(let ip): ip.description
        case .block(let c): c.description
        case .domain(let d): d.value
        }
    }
}
