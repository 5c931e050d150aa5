import DNSWatchModel
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The compiled warning lists, kept on disk and mapped into memory: a command that uses a full MISP
/// checkout (about 120 lists, 2.5 million entries) opens it in milliseconds instead of parsing 65 MB of
/// JSON, and a lookup is a few binary searches.
///
/// Layout (integers little-endian): the magic `DNSWLX01`, the length of a JSON header (u64), the header
/// (``Header``: the stamp of the files it was built from, the lists, the interned list sets, regex entries,
/// and the offset of every array below), padding to 8, then
/// - IPv4 ranges: disjoint, sorted segments `lo[n]`, `hi[n]` (u32) and `set[n]` (u32): the lists that hold
///   every address of the segment (overlapping blocks of many lists are cut into such segments at build);
/// - IPv6 ranges: the same with each bound as two u64 (high, low);
/// - the same two tables for the entries wider than an IPv4 /8 or an IPv6 /16 (``WarningListCompiler/widestIPv4``):
///   only annotating lists use those;
/// - exact names (`string` entries, and non-address entries of `cidr` lists) and suffix names (`hostname`
///   entries, matching the name and every name under it): `offset[n+1]` (u32) into a byte area of names
///   sorted by their bytes, and `set[n]` (u32);
/// - substring entries, as a name table (read into a probe map when the index is opened).
public final class WarningListIndex: Sendable {
    static let formatVersion = 3
    static let magic = Array("DNSWLX01".utf8)

    struct Pattern: Codable, Sendable {
        var text: String
        var list: Int
    }

    struct NameTable: Codable, Sendable {
        var count: Int
        var offsets: Int
        var sets: Int
        var bytes: Int
        var byteCount: Int
    }

    struct RangeTable: Codable, Sendable {
        var count: Int
        var lo: Int
        var hi: Int
        var sets: Int
    }

    struct Header: Codable, Sendable {
        var format: Int
        var stamp: String
        var lists: [WarningListInfo]
        var sets: [[Int]]
        var regexes: [Pattern]
        var v4: RangeTable
        var v6: RangeTable
        var v4Wide: RangeTable
        var v6Wide: RangeTable
        var exact: NameTable
        var suffix: NameTable
        var substring: NameTable
    }

    private let data: Data
    private let header: Header
    /// Substring entries by length, then by the hash of their bytes: a text of length L is probed at each
    /// window of each length present, without building a string per window.
    private let substrings: [Int: [UInt64: [(bytes: [UInt8], list: Int)]]]
    private let regexes: [(regex: LinearRegex, list: Int)]

    public var lists: [WarningListInfo] { header.lists }

    init(data: Data) throws {
        guard data.count >= 16, Array(data.prefix(8)) == WarningListIndex.magic else {
            throw WarningListError(path: "index", message: "not a dnswatch warning-list index")
        }
        let length = data.withUnsafeBytes { Int(UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: 8, as: UInt64.self))) }
        guard length > 0, length <= data.count - 16 else { throw WarningListError(path: "index", message: "truncated header") }
        let header = try JSONDecoder().decode(Header.self, from: data.subdata(in: 16..<(16 + length)))
        guard header.format == WarningListIndex.formatVersion else { throw WarningListError(path: "index", message: "format \(header.format)") }
        func fits(_ offset: Int, _ bytes: Int) -> Bool { offset >= 0 && bytes >= 0 && offset <= data.count && bytes <= data.count - offset }
        let ok = [header.v4, header.v4Wide].allSatisfy { fits($0.lo, $0.count * 4) && fits($0.hi, $0.count * 4) && fits($0.sets, $0.count * 4) }
            && [header.v6, header.v6Wide].allSatisfy { fits($0.lo, $0.count * 16) && fits($0.hi, $0.count * 16) && fits($0.sets, $0.count * 4) }
            && [header.exact, header.suffix, header.substring].allSatisfy {
                fits($0.offsets, ($0.count + 1) * 4) && fits($0.sets, $0.count * 4) && fits($0.bytes, $0.byteCount)
            }
            && header.sets.allSatisfy { $0.allSatisfy { $0 >= 0 && $0 < header.lists.count } }
            && header.regexes.allSatisfy { $0.list >= 0 && $0.list < header.lists.count }
        guard ok else { throw WarningListError(path: "index", message: "an array lies outside the file") }
        self.data = data
        self.header = header
        // Substrings are few (thousands): read out of their table into the probe map once.
        var subs: [Int: [UInt64: [(bytes: [UInt8], list: Int)]]] = [:]
        let t = header.substring
        data.withUnsafeBytes { raw in
            for i in 0..<t.count {
                let a = Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: t.offsets + i * 4, as: UInt32.self)))
                let b = Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: t.offsets + (i + 1) * 4, as: UInt32.self)))
                let id = Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: t.sets + i * 4, as: UInt32.self)))
                guard a < b, b <= t.byteCount, id < header.sets.count else { continue }
                let bytes = Array(raw[(t.bytes + a)..<(t.bytes + b)])
                for list in header.sets[id] { subs[bytes.count, default: [:]][WarningListIndex.hash(bytes[...]), default: []].append((bytes, list)) }
            }
        }
        substrings = subs
        // The build kept only regexes that compile; one that does not makes the index unusable (it is rebuilt).
        var regexes: [(regex: LinearRegex, list: Int)] = []
        for p in header.regexes {
            do { regexes.append((try LinearRegex(p.text), p.list)) } catch {
                throw WarningListError(path: "index", message: "a regex the build accepted is refused: \(error.message)")
            }
        }
        self.regexes = regexes
    }

    /// The index at `path` if it was built from files with this stamp; nil if it is missing, stale or unreadable
    /// (it is then rebuilt).
    static func open(path: String, stamp: String) throws -> WarningListIndex? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped) } catch { return nil }
        do {
            let index = try WarningListIndex(data: data)
            return index.header.stamp == stamp ? index : nil
        } catch {
            return nil  // a damaged or older index is rebuilt, never trusted
        }
    }

    /// Writes the index atomically (a temporary file renamed over it), 0600 in a 0700 directory.
    static func save(_ data: Data, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent()
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: FileModes.directory(for: FileModes.ownerOnly)])
        let temp = dir.appendingPathComponent(".\(url.lastPathComponent).\(ProcessInfo.processInfo.processIdentifier).tmp")
        guard FileManager.default.createFile(atPath: temp.path, contents: data, attributes: [.posixPermissions: FileModes.ownerOnly]) else {
            throw WarningListError(path: temp.path, message: "cannot create the file")
        }
        // rename(2): a process that mapped the old index keeps it; the next one opens the new one whole.
        guard rename(temp.path, url.path) == 0 else {
            let why = String(cString: strerror(errno))
            _ = unlink(temp.path)
            throw WarningListError(path: path, message: "cannot move the new index into place: \(why)")
        }
    }

    // MARK: lookups

    /// Lists with a range holding the address (`wide`: among the entries wider than the bound).
    func lists(containing address: IPAddress, wide: Bool = false) -> [Int] {
        let point = WarningListIndex.point(address)
        let t = address.isIPv4 ? (wide ? header.v4Wide : header.v4) : (wide ? header.v6Wide : header.v6)
        guard let i = segment(t, v4: address.isIPv4, containing: point) else { return [] }
        return set(at: t.sets, i)
    }

    /// Lists whose ranges together hold every address of the block (`wide`: among the entries wider than the bound).
    func lists(covering block: CIDR, wide: Bool = false) -> [Int] {
        let v4 = block.network.isIPv4
        let t = v4 ? (wide ? header.v4Wide : header.v4) : (wide ? header.v6Wide : header.v6)
        let first = WarningListIndex.point(block.network)
        let span = UInt128(1) << UInt128((v4 ? 32 : 128) - block.prefixLength) &- 1
        let last = block.prefixLength == 0 && !v4 ? UInt128.max : first + span
        guard var i = segment(t, v4: v4, containing: first) else { return [] }
        var common = Set(set(at: t.sets, i))
        while bound(t.hi, v4: v4, i) < last, !common.isEmpty {
            let next = i + 1
            guard next < t.count, bound(t.lo, v4: v4, next) == bound(t.hi, v4: v4, i) + 1 else { return [] }
            common.formIntersection(set(at: t.sets, next))
            i = next
        }
        return common.sorted()
    }

    /// Lists matching a text: as a name (normalised) its exact and suffix entries; always the substrings and regexes.
    func lists(matchingText text: String, asName: Bool) -> [Int] {
        var out: [Int] = []
        let bytes = Array(text.utf8)
        if let i = find(header.exact, bytes[...]) { out += set(at: header.exact.sets, i) }
        if asName {
            var start = 0
            while start < bytes.count {
                if let i = find(header.suffix, bytes[start...]) { out += set(at: header.suffix.sets, i) }
                guard let dot = bytes[start...].firstIndex(of: UInt8(ascii: ".")) else { break }
                start = dot + 1
            }
        }
        if !substrings.isEmpty {
            for (length, entries) in substrings where length <= bytes.count {
                for s in 0...(bytes.count - length) {
                    let window = bytes[s..<(s + length)]
                    for e in entries[WarningListIndex.hash(window)] ?? [] where e.bytes.elementsEqual(window) { out.append(e.list) }
                }
            }
        }
        for r in regexes where r.regex.matches(text) { out.append(r.list) }
        return out
    }

    // MARK: reading the arrays

    private func u32(_ offset: Int, _ i: Int) -> UInt32 {
        data.withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: offset + i * 4, as: UInt32.self)) }
    }

    private func bound(_ offset: Int, v4: Bool, _ i: Int) -> UInt128 {
        if v4 { return UInt128(u32(offset, i)) }
        return data.withUnsafeBytes {
            let hi = UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: offset + i * 16, as: UInt64.self))
            let lo = UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: offset + i * 16 + 8, as: UInt64.self))
            return UInt128(hi) << 64 | UInt128(lo)
        }
    }

    private func set(at offset: Int, _ i: Int) -> [Int] {
        let id = Int(u32(offset, i))
        return id < header.sets.count ? header.sets[id] : []
    }

    /// The segment holding the point: the last whose low bound is at most it, if its high bound reaches it.
    private func segment(_ t: RangeTable, v4: Bool, containing p: UInt128) -> Int? {
        var (lo, hi) = (0, t.count)
        while lo < hi {
            let mid = (lo + hi) / 2
            if bound(t.lo, v4: v4, mid) <= p { lo = mid + 1 } else { hi = mid }
        }
        guard lo > 0, bound(t.hi, v4: v4, lo - 1) >= p else { return nil }
        return lo - 1
    }

    /// Binary search of a name table for exactly these bytes.
    private func find(_ t: NameTable, _ key: ArraySlice<UInt8>) -> Int? {
        guard t.count > 0 else { return nil }
        return data.withUnsafeBytes { raw -> Int? in
            func name(_ i: Int) -> UnsafeRawBufferPointer? {
                let a = Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: t.offsets + i * 4, as: UInt32.self)))
                let b = Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: t.offsets + (i + 1) * 4, as: UInt32.self)))
                guard a <= b, b <= t.byteCount else { return nil }
                return UnsafeRawBufferPointer(rebasing: raw[(t.bytes + a)..<(t.bytes + b)])
            }
            var (lo, hi) = (0, t.count)
            while lo < hi {
                let mid = (lo + hi) / 2
                guard let n = name(mid) else { return nil }
                if n.lexicographicallyPrecedes(key) { lo = mid + 1 } else { hi = mid }
            }
            guard lo < t.count, let n = name(lo), n.elementsEqual(key) else { return nil }
            return lo
        }
    }

    private static func hash(_ bytes: ArraySlice<UInt8>) -> UInt64 {
        var h = FNV1a()
        for b in bytes { h.mix(b) }
        return h.value
    }

    static func point(_ a: IPAddress) -> UInt128 {
        a.bytes.reduce(UInt128(0)) { $0 << 8 | UInt128($1) }
    }
}
