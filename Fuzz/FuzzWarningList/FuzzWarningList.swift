import FuzzSupport
import Classification
import DNSWatchModel

/// libFuzzer target: the bytes are a MISP `list.json`, compiled into the warning-list index
/// (`WarningLists.compile(json:name:actions:)`: the streaming reader, the compiler, the index read back) once
/// as a `shared` list and once as an annotating one, then looked up with addresses, blocks and names. Also,
/// the first line of the input as a regex (`LinearRegex`) against the rest as a name.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    regex(bytes)
    let shared: WarningLists
    let annotating: WarningLists
    do {
        shared = try WarningLists.compile(json: bytes, name: "fuzz", actions: WarningListActions(["fuzz": .shared]))
        annotating = shared.applying(WarningListActions())
    } catch let e as WarningListError {
        requireVisible(e.description)
        return 0
    } catch {
        fatalError("not a WarningListError: \(error)")
    }
    guard let info = shared.lists.first, shared.lists.count == 1 else { fatalError("one list in, not one out") }
    guard info.unusable <= info.entries, info.wide.count <= info.wideCount, info.wide.count <= 10, info.refused.count <= info.unusable
    else { fatalError("inconsistent counts: \(info)") }
    for w in shared.warnings { requireVisible(w) }
    if info.wideCount == 0, !shared.warnings.allSatisfy({ !$0.contains("is ignored") }) { fatalError("a warning without a wide entry") }
    guard annotating.warnings.allSatisfy({ !$0.contains("is ignored") }) else { fatalError("an annotating list warned of a wide entry") }
    // Probes all over both address spaces, and some from the input.
    var probes = ["0.0.0.0", "0.0.0.1", "1.2.3.4", "10.1.2.3", "93.184.216.34", "127.255.255.255", "128.0.0.1", "200.1.2.3",
                  "255.255.255.255", "::", "::1", "2001:db8::1", "2a00:1450::1", "8000::1", "ffff::1"].compactMap(IPAddress.init)
    if bytes.count >= 4 { probes.append(contentsOf: IPAddress(bytes: Array(bytes.suffix(4))).map { [$0] } ?? []) }
    if bytes.count >= 16 { probes.append(contentsOf: IPAddress(bytes: Array(bytes.suffix(16))).map { [$0] } ?? []) }
    for p in probes {
        let a = Set(annotating.matches(address: p)), s = Set(shared.matches(address: p))
        // A wide entry never reaches a list that changes a class: what only the annotating list matches must lie
        // in one of the wide entries (all named when there are at most 10).
        guard s.isSubset(of: a) else { fatalError("\(p): the shared list matches more than the annotating one") }
        if s != a {
            guard info.wideCount > 0 else { fatalError("\(p): the lists differ with no wide entry") }
            if info.wideCount == info.wide.count, !info.wide.contains(where: { CIDR($0)?.contains(p) == true }) {
                fatalError("\(p): matched only by the annotating list, outside its wide entries \(info.wide)")
            }
        }
        let block = CIDR(network: p, prefixLength: p.isIPv4 ? 8 : 16)
        guard Set(shared.matches(block: block)).isSubset(of: Set(annotating.matches(block: block))) else {
            fatalError("\(block): the shared list covers more than the annotating one")
        }
    }
    for name in ["example.com", "www.example.com", "a", String(repeating: "x", count: 30) + ".example", String(repeating: "a.", count: 126) + "a"] {
        guard shared.matches(name: name) == annotating.matches(name: name) else { fatalError("names: the action changed a match") }
    }
    return 0
}

/// The first line as a pattern, the next (at most 253 bytes) as the text: an accepted pattern answers within
/// its bound of steps, a refused one says why in a clean sentence.
func regex(_ bytes: [UInt8]) {
    let text = String(decoding: bytes, as: UTF8.self)
    let lines = text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false)
    let pattern = String(lines[0].prefix(200))
    let subject = lines.count > 1 ? String(decoding: lines[1].utf8.prefix(253), as: UTF8.self) : ""
    do throws(LinearRegexError) {
        let r = try LinearRegex(pattern)
        guard r.size <= LinearRegex.maxProgram + 1 else { fatalError("program of \(r.size) instructions") }
        var steps = 0
        _ = r.matches(subject, steps: &steps)
        guard steps <= r.size * (subject.unicodeScalars.count + 1) else {
            fatalError("\(pattern.debugDescription) on \(subject.debugDescription): \(steps) steps, program \(r.size)")
        }
    } catch {
        requireVisible(error.message)
    }
}
