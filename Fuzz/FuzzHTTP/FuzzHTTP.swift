import FuzzSupport
import DNSWatchModel
import Serve

/// libFuzzer target: the bytes (as UTF-8, repaired) are a request's query string, a path segment and a
/// dribble header, read by `HTTPInputProbe.outcomes` through the parsers the routes use: `QueryText` (strict
/// percent-decoding), `DNSDBQuery` (limit, offset, time fences, max_count), `PathValue` (segment, name or
/// `*.suffix`, address or prefix), `TypeQuery`, the web page's address query, the API's times and CIRCL's
/// dribble headers (page size, cursor, type filter).
/// Checked besides "no crash": refusals hold no raw control or format character; an accepted name or
/// suffix parses to itself; an accepted prefix has a length within its family and prints as a prefix that
/// parses back to it; limits, offsets, fences, cursors and times are within their ranges; decoded
/// parameters and segments are valid Unicode without the `%` escapes having been kept.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    for outcome in HTTPInputProbe.outcomes(text) {
        switch outcome {
        case .refused(let message):
            requireVisible(message)
        case .parameters, .segment, .type:
            break
        case .name(let exact, let suffix):
            for name in [exact, suffix].compactMap({ $0 }) { requireNormalisedName(name) }
        case .block(let block):
            guard block.prefixLength >= 0, block.prefixLength <= block.network.bytes.count * 8 else { fatalError("bad length \(block)") }
            guard CIDR(block.description) == block else { fatalError("\(block) does not parse back to itself") }
        case .uiAddress(let shown):
            guard CIDR(shown) != nil else { fatalError("web page address \(shown) does not parse again") }
        case .dnsdb(let limit, let offset, let fences, let maxCount):
            guard (0...100_000).contains(limit), (0...10_000_000).contains(offset) else { fatalError("limit \(limit) offset \(offset)") }
            let span = HTTPInputProbe.now - 100_000_000_000...100_000_000_000
            guard fences.allSatisfy(span.contains) else { fatalError("fence out of range: \(fences)") }
            if let maxCount, maxCount < 1 { fatalError("max_count \(maxCount)") }
        case .circl(let count, let cursor):
            guard (1...100_000).contains(count), (0...10_000_000).contains(cursor) else { fatalError("count \(count) cursor \(cursor)") }
        case .time(let t):
            guard TimeSpecParser.range.contains(t) else { fatalError("time out of range accepted: \(t)") }
        }
    }
    return 0
}
