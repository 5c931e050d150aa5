import DNSWatchModel
import Foundation

/// Parses MISP warning lists (`list.json`: name, description, version, type, matching_attributes, list) and
/// writes the index ``WarningListIndex`` reads.
enum WarningListCompiler {
    /// MISP attribute types whose values are what dnswatch classifies: addresses, names, URLs. A list
    /// that names only others (hashes, e-mail addresses, phone numbers) is counted but not indexed.
    static let relevantAttributes: Set<String> = [
        "ip-src", "ip-dst", "ip-src|port", "ip-dst|port", "domain", "hostname", "domain|ip", "url", "uri", "ip",
    ]

    /// The widest address block that a list which changes a class (action `parking`, `sinkhole` or `shared`)
    /// may hold: an IPv4 /8 (the largest block ever assigned to one organisation) and an IPv6 /16 (the RIRs
    /// themselves get /12s; the widest blocks of the real cloud lists are IPv4 /9 to /12 and IPv6 /24 to /32).
    /// A wider entry (`0.0.0.0/0`, `::/0`, `128.0.0.0/1`) would turn most of the address space into that
    /// class: it is kept apart (``WarningListIndex`` "wide" tables), used only by annotating lists, and named
    /// in ``WarningLists/warnings`` for the others.
    static let widestIPv4 = 8
    static let widestIPv6 = 16
    /// Entries named per list in ``WarningListInfo/wide`` and ``WarningListInfo/refused`` (the counts are complete).
    static let maxNamedEntries = 10

    /// A list to compile: the path it is known by and how to read it (twice: once for the fields, once for the
    /// entries; the digests must agree).
    struct Source {
        var path: String
        var name: String
        var read: (((String) throws -> Void)?) throws -> (fields: WarningListReader.Fields, digest: UInt64)

        static func file(_ path: String) -> Source {
            Source(path: path, name: WarningListSource.name(of: path)) { entry in
                do {
                    return try WarningListReader.read(path: path, entry: entry)
                } catch let e as RegularFileError {
                    throw WarningListError(path: path, message: e.reason)
                }
            }
        }

        /// A list.json held in memory (the fuzz target and tests).
        static func bytes(_ bytes: [UInt8], name: String) -> Source {
            Source(path: name, name: name) { entry in
                (try WarningListReader.read(bytes: bytes, entry: entry), 0)
            }
        }
    }

    /// An interned list set per name or segment: most values are on one list.
    private struct Sets {
        var ids: [[Int]] = []
        var byValue: [[Int]: UInt32] = [:]
        mutating func id(_ set: [Int]) -> UInt32 {
            if let id = byValue[set] { return id }
            let id = UInt32(ids.count)
            ids.append(set)
            byValue[set] = id
            return id
        }
    }

    static func compile(_ files: [String], stamp: String) throws -> Data {
        try compile(files.map(Source.file), stamp: stamp)
    }

    static func compile(_ sources: [Source], stamp: String) throws -> Data {
        var lists: [WarningListInfo] = []
        var sets = Sets()
        var exact = NameCollector(), suffix = NameCollector()
        var v4: [(lo: UInt128, hi: UInt128, list: Int)] = [], v6: [(lo: UInt128, hi: UInt128, list: Int)] = []
        var v4Wide: [(lo: UInt128, hi: UInt128, list: Int)] = [], v6Wide: [(lo: UInt128, hi: UInt128, list: Int)] = []
        var substrings = NameCollector(), regexes: [WarningListIndex.Pattern] = []
        func add(_ name: String, to table: inout NameCollector, list: Int) { table.add(name, list: list) }

        for (id, source) in sources.enumerated() {
            let path = source.path
            func read(_ entry: ((String) throws -> Void)?) throws -> (fields: WarningListReader.Fields, digest: UInt64) {
                do { return try source.read(entry) } catch let e as WarningListReader.Failure {
                    throw WarningListError(path: path, message: "not a MISP warning list (\(e.message))")
                }
            }
            // First the fields (MISP writes "list" before "type"), then the entries, as they are read.
            let (file, digest) = try read(nil)
            let type = (file.type ?? "string").lowercased()
            let attributes = file.matchingAttributes ?? []
            let applies = ["cidr", "hostname", "string", "substring", "regex"].contains(type)
                && (attributes.isEmpty || !relevantAttributes.isDisjoint(with: attributes))
            var unusable = 0
            var wide: [String] = [], wideCount = 0, refused: [String] = []
            // The content hash (``FingerprintSet/stableHash(_:)`` of the type and the entries as indexed), as they go.
            var hash = FNV1a()
            hash.mix("\(type)\n")
            func indexed(_ text: String) { hash.mix(text); hash.mix(UInt8(ascii: "\n")) }
            if applies {
                let (_, again) = try read { raw in
                    let entry = raw.trimmingBlanks
                    switch type {
                    case "cidr":
                        if let c = CIDR(entry) {
                            let lo = WarningListIndex.point(c.network)
                            let width = (c.network.isIPv4 ? 32 : 128) - c.prefixLength
                            let hi = width == 128 ? UInt128.max : lo | ((UInt128(1) << UInt128(width)) &- 1)
                            if c.prefixLength < (c.network.isIPv4 ? widestIPv4 : widestIPv6) {
                                if c.network.isIPv4 { v4Wide.append((lo, hi, id)) } else { v6Wide.append((lo, hi, id)) }
                                wideCount += 1
                                if wide.count < maxNamedEntries { wide.append(c.description) }
                            } else if c.network.isIPv4 {
                                v4.append((lo, hi, id))
                            } else {
                                v6.append((lo, hi, id))
                            }
                            indexed(c.description)
                        } else if let n = name(entry) {
                            add(n, to: &exact, list: id)  // as pymispwarninglists: a non-address entry matches as a string
                            indexed(n)
                        } else {
                            unusable += 1
                        }
                    case "hostname":
                        var text = Substring(entry)
                        while text.hasPrefix("*.") { text = text.dropFirst(2) }
                        while text.hasPrefix(".") { text = text.dropFirst() }
                        if let n = name(String(text)) { add(n, to: &suffix, list: id); indexed(n) } else { unusable += 1 }
                    case "string":
                        if let n = name(entry) { add(n, to: &exact, list: id); indexed(n) } else { unusable += 1 }
                    case "substring":
                        let s = entry.lowercased()
                        if s.isEmpty { unusable += 1 } else { add(s, to: &substrings, list: id); indexed(s) }
                    default:  // regex
                        do throws(LinearRegexError) {
                            _ = try LinearRegex(entry)
                            regexes.append(.init(text: entry, list: id))
                            indexed(entry)
                        } catch {
                            unusable += 1
                            if refused.count < maxNamedEntries {
                                refused.append("regex \"\(VisibleText.escape(entry))\" not used: \(error.message)")
                            }
                        }
                    }
                }
                guard again == digest else {
                    throw WarningListError(path: path, message: "the file changed while it was read; run the command again")
                }
            }
            let listName = source.name
            lists.append(WarningListInfo(
                name: listName, title: file.name ?? listName, description: file.description ?? file.name ?? listName,
                version: file.version ?? "", type: type, entries: file.entries, unusable: unusable,
                applies: applies, path: path,
                contentHash: FingerprintSet.stableHash(digest: hash),
                wide: wide, wideCount: wideCount, refused: refused))
        }

        var out: [UInt8] = []
        func align() { while out.count % 8 != 0 { out.append(0) } }
        func put32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        func put64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }

        // Body first (offsets relative to the body), then the header is put in front of it.
        func ranges(_ blocks: [(lo: UInt128, hi: UInt128, list: Int)], v4: Bool) -> WarningListIndex.RangeTable {
            let segments = cut(blocks).map { ($0.lo, $0.hi, sets.id($0.lists)) }
            func put(_ bound: UInt128) {
                if v4 {
                    put32(UInt32(bound))
                } else {
                    put64(UInt64(bound >> 64))
                    put64(UInt64(bound & UInt128(UInt64.max)))
                }
            }
            align()
            let loAt = out.count
            for s in segments { put(s.0) }
            align()
            let hiAt = out.count
            for s in segments { put(s.1) }
            align()
            let setAt = out.count
            for s in segments { put32(s.2) }
            return .init(count: segments.count, lo: loAt, hi: hiAt, sets: setAt)
        }
        func names(_ table: inout NameCollector) throws -> WarningListIndex.NameTable {
            table.sort()
            // The offsets and list sets of the distinct names in byte order, then their bytes.
            var offsets: [UInt32] = [0], setIDs: [UInt32] = []
            var at = 0
            table.forEachName { bytes, lists in
                at += bytes.count
                offsets.append(UInt32(truncatingIfNeeded: at))
                setIDs.append(sets.id(lists))
            }
            guard at <= Int(UInt32.max) else { throw WarningListError(path: "index", message: "more than 4 GB of names") }
            align()
            let offsetsAt = out.count
            for o in offsets { put32(o) }
            align()
            let setsAt = out.count
            for id in setIDs { put32(id) }
            align()
            let bytesAt = out.count
            out.reserveCapacity(out.count + at)
            table.forEachName { bytes, _ in out.append(contentsOf: bytes) }
            table = NameCollector()  // freed before the next table is built
            return .init(count: setIDs.count, offsets: offsetsAt, sets: setsAt, bytes: bytesAt, byteCount: at)
        }
        var header = WarningListIndex.Header(
            format: WarningListIndex.formatVersion, stamp: stamp, lists: lists, sets: [], regexes: regexes,
            v4: ranges(v4, v4: true), v6: ranges(v6, v4: false), v4Wide: ranges(v4Wide, v4: true), v6Wide: ranges(v6Wide, v4: false),
            exact: try names(&exact), suffix: try names(&suffix), substring: try names(&substrings))
        header.sets = sets.ids

        // The header's length shifts every offset; offsets are made absolute with a fixed-width header length.
        func encoded(_ h: WarningListIndex.Header) throws -> [UInt8] {
            let enc = JSONEncoder()
            enc.outputFormatting = [.sortedKeys]
            return Array(try enc.encode(h))
        }
        var headerBytes = try encoded(header)
        var shift = 0
        for _ in 0..<4 {  // offsets grow the header only by a few digits: a fixed point after a pass or two
            shift = (16 + headerBytes.count + 7) / 8 * 8
            var h = header
            for keyPath in [\WarningListIndex.Header.v4, \.v6, \.v4Wide, \.v6Wide] {
                h[keyPath: keyPath].lo += shift; h[keyPath: keyPath].hi += shift; h[keyPath: keyPath].sets += shift
            }
            for keyPath in [\WarningListIndex.Header.exact, \.suffix, \.substring] {
                h[keyPath: keyPath].offsets += shift; h[keyPath: keyPath].sets += shift; h[keyPath: keyPath].bytes += shift
            }
            let again = try encoded(h)
            if (16 + again.count + 7) / 8 * 8 == shift { headerBytes = again; break }
            headerBytes = again
        }
        var file = Data(capacity: shift + out.count)
        file.append(contentsOf: WarningListIndex.magic)
        withUnsafeBytes(of: UInt64(headerBytes.count).littleEndian) { file.append(contentsOf: $0) }
        file.append(contentsOf: headerBytes)
        guard file.count <= shift else { throw WarningListError(path: "index", message: "header layout did not settle") }
        file.append(contentsOf: [UInt8](repeating: 0, count: shift - file.count))
        file.append(contentsOf: out)
        return file
    }

    /// Names with the list of each, gathered flat — one byte area and 16 bytes a name — rather than as a
    /// dictionary of strings, then sorted by their bytes: a list of millions of names is compiled in little more
    /// than the index it becomes.
    struct NameCollector {
        private var bytes: [UInt8] = []
        private var entries: [Entry] = []
        private struct Entry {
            var start: Int
            var length: Int32
            var list: Int32
        }

        mutating func add(_ name: String, list: Int) {
            let start = bytes.count
            bytes.append(contentsOf: name.utf8)
            entries.append(Entry(start: start, length: Int32(bytes.count - start), list: Int32(list)))
        }

        /// In byte order of the names, then by list.
        mutating func sort() {
            let area = bytes
            area.withUnsafeBufferPointer { b in
                entries.sort { x, y in
                    let n = min(x.length, y.length)
                    var i = 0
                    while i < Int(n) {
                        let p = b[x.start + i], q = b[y.start + i]
                        if p != q { return p < q }
                        i += 1
                    }
                    return x.length != y.length ? x.length < y.length : x.list < y.list
                }
            }
        }

        /// Each distinct name (after ``sort()``) with the sorted lists holding it.
        func forEachName(_ body: (ArraySlice<UInt8>, [Int]) -> Void) {
            var i = 0
            while i < entries.count {
                let e = entries[i]
                let name = bytes[e.start..<(e.start + Int(e.length))]
                var lists = [Int(e.list)]
                var j = i + 1
                while j < entries.count, entries[j].length == e.length,
                      bytes[entries[j].start..<(entries[j].start + Int(entries[j].length))] == name {
                    if lists.last != Int(entries[j].list) { lists.append(Int(entries[j].list)) }
                    j += 1
                }
                body(name, lists)
                i = j
            }
        }
    }

    /// Overlapping blocks of many lists cut into disjoint segments, each with the sorted lists holding all of it;
    /// neighbours with the same lists merged.
    static func cut(_ blocks: [(lo: UInt128, hi: UInt128, list: Int)]) -> [(lo: UInt128, hi: UInt128, lists: [Int])] {
        guard !blocks.isEmpty else { return [] }
        // Events: a block adds its list at lo and removes it after hi (never, for a block that ends the space).
        var events: [(at: UInt128, delta: Int, list: Int)] = []
        events.reserveCapacity(blocks.count * 2)
        for b in blocks {
            events.append((b.lo, 1, b.list))
            if b.hi < UInt128.max { events.append((b.hi + 1, -1, b.list)) }
        }
        events.sort { $0.at < $1.at }
        var active: [Int: Int] = [:]
        var out: [(lo: UInt128, hi: UInt128, lists: [Int])] = []
        var i = 0
        while i < events.count {
            let at = events[i].at
            while i < events.count, events[i].at == at {
                active[events[i].list, default: 0] += events[i].delta
                if active[events[i].list] == 0 { active[events[i].list] = nil }
                i += 1
            }
            guard !active.isEmpty else { continue }
            let end = i < events.count ? events[i].at - 1 : UInt128.max
            let lists = active.keys.sorted()
            if let last = out.last, last.lists == lists, last.hi &+ 1 == at {
                out[out.count - 1].hi = end
            } else {
                out.append((at, end, lists))
            }
        }
        return out
    }

    /// A name entry normalised as dnswatch's names are: lower case, no trailing dot; an address in its
    /// canonical text. Nil when empty.
    /// A name in Unicode is written in A-labels (punycode), as dnswatch stores names, so that every key is
    /// ASCII and sorts the same as bytes and as strings; one that is no valid name is unusable.
    static func name(_ entry: String) -> String? {
        var s = Substring(entry.lowercased())
        while s.hasSuffix(".") { s = s.dropLast() }
        guard !s.isEmpty else { return nil }
        if let a = IPAddress(String(s)) { return a.description }
        guard s.utf8.allSatisfy({ $0 < 0x80 }) else {
            do { return try DomainName(String(s)).value } catch { return nil }  // unusable: counted in the list's `unusable`
        }
        return String(s)
    }
}
