import FuzzSupport
import DNSWatchConfig
import DNSWatchModel

/// libFuzzer target: the bytes are a TOML config file given to `Config.parse(_:path:)`. It either loads or
/// throws a `Config.Failure`; values that load lie in range, and messages carry no raw control byte.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    do {
        let config = try Config.parse(text, path: "fuzz.toml")
        for (_, interval) in config.intervals where !PollInterval.range.contains(interval) {
            fatalError("interval \(interval) accepted")
        }
        for timeout in [config.timeout, config.webhookTimeout].compactMap({ $0 }) where !(timeout > 0 && timeout.isFinite) {
            fatalError("timeout \(timeout) accepted")
        }
    } catch {
        requireVisible("\(error)")
    }
    return 0
}
