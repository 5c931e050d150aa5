import FuzzSupport
import DNSWatchModel
import Foundation

/// libFuzzer target: the bytes are a duration / time as given on the command line or in a file
/// (`DurationParser.seconds`, `TimeSpecParser.epoch`); results must lie in their documented ranges.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    do {
        let seconds = try DurationParser.seconds(text)
        guard (0...DurationParser.maximum).contains(seconds) else { fatalError("duration \(seconds) out of range") }
        // The formatted form parses back to the same value.
        let formatted = DurationParser.format(seconds)
        do {
            guard try DurationParser.seconds(formatted) == seconds else { fatalError("\(formatted) is not \(seconds) s") }
        } catch {
            fatalError("the format of \(seconds) s, \(formatted), does not parse: \(error)")
        }
        _ = PollInterval.problem(seconds)
    } catch {
        requireVisible(error.description)
    }
    // A fixed "now" near the end of the range, so that relative times far back and forward are both reached.
    do {
        let epoch = try TimeSpecParser.epoch(text, now: Date(timeIntervalSince1970: 1_800_000_000))
        guard TimeSpecParser.range.contains(epoch) else { fatalError("time \(epoch) out of range") }
    } catch {
        requireVisible(error.description)
    }
    return 0
}
