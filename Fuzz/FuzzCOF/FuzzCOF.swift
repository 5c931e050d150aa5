import FuzzSupport
import DNSWatchModel
import Store
import Poller

/// libFuzzer target: the bytes are a COF NDJSON file (`import cof`). They are cut into lines by
/// `LineReader.Splitter` (whole, and again in chunks of a size the input picks: the lines must be the
/// same), and each of the first 64 lines goes through `COFLine.parse`, the parser of `import cof`.
/// Checked besides "no crash": an accepted record's times are within `TimeSpecParser.range` and in order,
/// its count is not negative, its name and name rdata are normalised (they parse to themselves) and
/// ASCII, its addresses are of its type's family and in canonical form, its rdata sorted and distinct;
/// no reason (of a bad or a skipped line) holds a raw control or format character.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    var whole: [[UInt8]?] = []
    var splitter = LineReader.Splitter()
    splitter.feed(bytes[...]) { _, line in whole.append(line.map(Array.init)) }
    splitter.finish { _, line in whole.append(line.map(Array.init)) }

    // The same bytes in chunks: the lines do not depend on where the reads end.
    let chunk = 1 + Int(bytes.first ?? 0) % 97
    var chunked: [[UInt8]?] = []
    var again = LineReader.Splitter()
    var start = 0
    while start < bytes.count {
        let end = min(start + chunk, bytes.count)
        again.feed(bytes[start..<end]) { _, line in chunked.append(line.map(Array.init)) }
        start = end
    }
    again.finish { _, line in chunked.append(line.map(Array.init)) }
    guard whole == chunked, again.count == whole.count else { fatalError("lines differ when read in chunks of \(chunk)") }

    for line in whole.prefix(64) {
        guard let line else { continue }
        if line.contains(UInt8(ascii: "\n")) || line.count > LineReader.maxLineLength { fatalError("a line holds a newline or is too long") }
        switch COFLine.parse(line[...]) {
        case .record(let r):
            check(r)
        case .skipped(let reason), .invalid(let reason):
            requireVisible(reason)
        }
    }
    return 0
}

/// What an accepted record must be.
func check(_ r: ImportedRecord) {
    guard TimeSpecParser.range.contains(r.timeFirst), TimeSpecParser.range.contains(r.timeLast) else {
        fatalError("time out of range accepted: \(r.timeFirst) \(r.timeLast)")
    }
    guard r.timeFirst <= r.timeLast else { fatalError("time_first after time_last accepted") }
    guard r.count >= 0 else { fatalError("negative count accepted") }
    requireNormalisedName(r.domain)
    guard !r.rdata.isEmpty, r.rdata == Array(Set(r.rdata)).sorted() else { fatalError("rdata not sorted and distinct: \(r.rdata)") }
    for v in r.rdata {
        switch r.rrtype {
        case .a, .aaaa:
            guard let ip = IPAddress(v), ip.isIPv4 == (r.rrtype == .a), ip.description == v else { fatalError("bad address accepted: \(v)") }
        case .ns, .cname:
            requireNormalisedName(v)
        case .txt:
            fatalError("TXT accepted")
        }
    }
}
