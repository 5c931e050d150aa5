import FuzzSupport
import DNSWatchModel
import Watchlists

/// libFuzzer target: the bytes are a watchlist file. Each line goes through `Indicator.classify` (the line
/// parser), the whole text through `WatchlistParser.parse(text:path:)` and `merge`, and every message that
/// quotes input is checked to carry no raw control byte.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    for line in text.split(separator: "\n", omittingEmptySubsequences: false).prefix(64) {
        switch Indicator.classify(String(line)) {
        case .domain(let name):
            // A name that was accepted is normalised: parsing it again gives itself.
            do {
                guard try DomainName(name.value) == name else { fatalError("not idempotent: \(name.value)") }
            } catch {
                fatalError("\(name.value) was accepted but does not parse again: \(error)")
            }
        case .invalid(let reason):
            requireVisible(reason)
        case .skipped:
            break
        }
    }
    let list = WatchlistParser.parse(text: text, path: "fuzz.txt")
    for line in list.invalid { requireVisible(line.description) }
    if let interval = list.header.interval, !PollInterval.range.contains(interval) {
        fatalError("interval \(interval) accepted")
    }
    let merged = WatchlistParser.merge([list, list])
    for conflict in merged.conflicts { requireVisible(conflict) }
    guard merged.entries.count == list.entries.count else { fatalError("merge lost or added entries") }
    do {
        try ListName.validate(String(text.prefix(300)))
    } catch {
        requireVisible(error.description)
    }
    return 0
}
