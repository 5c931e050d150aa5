import Resolver

/// libFuzzer target: the bytes are a DNS reply datagram, decoded as the engine decodes replies over UDP
/// and TCP (`ReplyDecoding.summary`: header and section walk, question check, ldns answer parsing,
/// CNAME chain, rdata rendering).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    _ = ReplyDecoding.summary(of: UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
