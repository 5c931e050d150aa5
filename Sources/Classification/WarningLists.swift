public import DNSWatchModel
public import Foundation

/// What a warning list does to the values it matches (the action table, keyed by the list's directory name).
public enum WarningListAction: String, Sendable, Hashable, Codable, CaseIterable {
    /// Its values are domain parking: class `parked`.
    case parking
    /// Takedown or sinkhole operators: class `sinkhole`.
    case sinkhole
    /// Shared infrastructure (cloud and CDN ranges, public resolvers): class `shared`.
    case shared
    /// Only named in `warninglists` and in reasons; changes no class.
    case annotate
}

/// The action table: the shipped `warninglist-actions.tsv`, then the user's entries (config
/// `[warninglists] actions`), which win. A list the table does not name only annotates.
public struct WarningListActions: Sendable, Equatable {
    public private(set) var actions: [String: WarningListAction]

    public init(_ actions: [String: WarningListAction] = [:]) {
        self.actions = actions
    }

    /// The table shipped inside the binary (data/warninglist-actions.tsv).
    public static func embedded() throws -> WarningListActions {
        try WarningListActions(tsv: String(decoding: PackageResources.warninglist_actions_tsv, as: UTF8.self), origin: "embedded")
    }

    /// Tab- or space-separated `LIST ACTION` lines; `#` comments and blank lines ignored.
    public init(tsv: String, origin: String) throws {
        var actions: [String: WarningListAction] = [:]
        for (n, raw) in tsv.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)[0]
            let fields = line.split(whereSeparator: { $0 == "\t" || $0 == " " })
            if fields.isEmpty { continue }
            guard fields.count == 2, let action = WarningListAction(rawValue: String(fields[1])) else {
                throw FingerprintError(origin: origin, line: n + 1,
                                       message: "expected 'LIST ACTION' with ACTION one of \(WarningListAction.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            actions[String(fields[0])] = action
        }
        self.actions = actions
    }

    /// This table with `other`'s entries added (they win).
    public func merging(_ other: [String: WarningListAction]) -> WarningListActions {
        WarningListActions(actions.merging(other) { _, new in new })
    }

    public func action(for list: String) -> WarningListAction { actions[list] ?? .annotate }
}

/// One loaded warning list, as `providers --json` shows it.
public struct WarningListInfo: Sendable, Hashable, Codable {
    /// The list's directory name (`amazon-aws`), or a single file's name without `.json`.
    public var name: String
    /// The list's own title (`"name"` in list.json).
    public var title: String
    public var description: String
    /// `"version"` in list.json, as text (MISP writes a number such as 20251223).
    public var version: String
    /// cidr | hostname | string | substring | regex.
    public var type: String
    /// Entries in the file.
    public var entries: Int
    /// Entries that could not be used (not an address or block in a cidr list, an empty name, a refused regex).
    public var unusable: Int
    /// False when the list's `matching_attributes` name nothing dnswatch looks at (file hashes, e-mail
    /// addresses, phone numbers): such a list is read, counted and not indexed.
    public var applies: Bool
    public var path: String
    /// A stable hash of the entries as indexed: what a derived class depends on.
    public var contentHash: String
    /// Address blocks wider than an IPv4 /8 or an IPv6 /16 (the first few; ``wideCount`` counts them all):
    /// ignored unless the list only annotates (``WarningLists/warnings`` names them).
    public var wide: [String] = []
    public var wideCount = 0
    /// Entries not used, each with the reason (a regex construct that cannot be matched in linear time); the
    /// first few of those counted in ``unusable``.
    public var refused: [String] = []
}

/// A problem with a warning list or its index, with the file it is about.
public struct WarningListError: Error, CustomStringConvertible, Sendable {
    public let path: String
    public let message: String
    public var description: String { "\(path): \(message)" }
}

/// The MISP warning lists given by `--warninglists` (checkouts of MISP/misp-warninglists or single
/// `list.json` files), compiled into an on-disk index (``WarningListIndex``) that is reused while the
/// files are unchanged, with the action table applied.
public final class WarningLists: Sendable {
    public let index: WarningListIndex
    public let actions: WarningListActions
    /// The action of each list, by list number.
    let listActions: [WarningListAction]
    /// Where the index came from: reused from the cache, built now (and saved), or built in memory only.
    public let origin: Origin

    public enum Origin: Sendable, Equatable {
        case reused(path: String)
        case built(path: String)
        /// The cache could not be written (the reason): built for this process only.
        case memoryOnly(reason: String)
    }

    init(index: WarningListIndex, actions: WarningListActions, origin: Origin) {
        self.index = index
        self.actions = actions
        self.origin = origin
        let listActions = index.lists.map { actions.action(for: $0.name) }
        self.listActions = listActions
        var warnings: [String] = []
        for (id, list) in index.lists.enumerated() {
            let what = "warning list \(VisibleText.escape(list.name)) (\(VisibleText.escape(list.path)))"
            if list.wideCount > 0, listActions[id] != .annotate {
                for entry in list.wide {
                    warnings.append("\(what): entry \(entry) is ignored: a list with the action \(listActions[id].rawValue) may hold no block "
                        + "wider than /\(WarningListCompiler.widestIPv4) (IPv4) or /\(WarningListCompiler.widestIPv6) (IPv6)")
                }
                if list.wideCount > list.wide.count {
                    warnings.append("\(what): \(list.wideCount - list.wide.count) more entries wider than that are ignored")
                }
            }
            for note in list.refused { warnings.append("\(what): \(note)") }
            if list.unusable > list.refused.count, list.type == "regex" {
                warnings.append("\(what): \(list.unusable - list.refused.count) more regex entries not used")
            }
        }
        self.warnings = warnings
        let lines = index.lists.enumerated().filter { listActions[$0.offset] != .annotate }
            .map { "\($0.element.name)\t\(listActions[$0.offset].rawValue)\t\($0.element.contentHash)\n" }
        classVersion = lines.isEmpty ? nil : FingerprintSet.stableHash(lines.sorted())
    }

    public var lists: [WarningListInfo] { index.lists }

    /// What an operator must hear about the lists, one sentence each, for the command to print on stderr:
    /// entries wider than the bound in a list that changes a class (ignored), and regex entries not used.
    public let warnings: [String]

    public func action(ofList id: Int) -> WarningListAction { listActions[id] }

    /// Names what derived classes depend on: every list that changes a class, its action and its content;
    /// nil when every list only annotates (then nothing derived depends on them). Computed once.
    public let classVersion: String?

    /// Loads the lists under `paths`, through the index cached in `cacheDirectory` (nil: in memory only).
    public static func load(paths: [String], actions: WarningListActions, cacheDirectory: URL?) throws -> WarningLists {
        let files = try WarningListSource.discover(paths)
        let stamp = try WarningListSource.stamp(files)
        guard let dir = cacheDirectory else {
            return WarningLists(index: try WarningListIndex(data: try WarningListCompiler.compile(files, stamp: stamp)),
                                actions: actions, origin: .memoryOnly(reason: "no cache directory"))
        }
        let path = dir.appendingPathComponent("warninglists-\(FingerprintSet.stableHash(files.map { $0 + "\n" })).idx").path
        if let index = try WarningListIndex.open(path: path, stamp: stamp) {
            return WarningLists(index: index, actions: actions, origin: .reused(path: path))
        }
        let data = try WarningListCompiler.compile(files, stamp: stamp)
        do {
            try WarningListIndex.save(data, to: path)
        } catch {
            return WarningLists(index: try WarningListIndex(data: data), actions: actions,
                                origin: .memoryOnly(reason: "cannot write \(path): \(error)"))
        }
        // Read back through the map, so this process uses what the next one will.
        guard let saved = try WarningListIndex.open(path: path, stamp: stamp) else {
            throw WarningListError(path: path, message: "the index just written does not read back")
        }
        return WarningLists(index: saved, actions: actions, origin: .built(path: path))
    }

    /// One `list.json` held in memory, compiled for this process only (the fuzz target).
    public static func compile(json: [UInt8], name: String, actions: WarningListActions) throws -> WarningLists {
        let data = try WarningListCompiler.compile([.bytes(json, name: name)], stamp: "memory")
        return WarningLists(index: try WarningListIndex(data: data), actions: actions, origin: .memoryOnly(reason: "compiled from memory"))
    }

    /// The same compiled lists under another action table.
    public func applying(_ actions: WarningListActions) -> WarningLists {
        WarningLists(index: index, actions: actions, origin: origin)
    }

    /// The default cache directory: `$XDG_CACHE_HOME/dnswatch`, else `~/.cache/dnswatch`.
    public static func defaultCacheDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> URL? {
        if let x = environment["XDG_CACHE_HOME"], x.hasPrefix("/") { return URL(fileURLWithPath: x).appendingPathComponent("dnswatch") }
        guard let home = environment["HOME"], home.hasPrefix("/") else { return nil }
        return URL(fileURLWithPath: home).appendingPathComponent(".cache/dnswatch")
    }

    // MARK: matching

    /// The lists that match an address (a range holds it, or a string/substring/regex entry its text).
    public func matches(address: IPAddress) -> [Int] {
        var ids = index.lists(containing: address)
        ids += index.lists(containing: address, wide: true).filter { listActions[$0] == .annotate }
        ids += index.lists(matchingText: address.description, asName: false)
        return Array(Set(ids)).sorted()
    }

    /// The lists whose ranges cover the whole block (a prefix in a feed).
    public func matches(block: CIDR) -> [Int] {
        Array(Set(index.lists(covering: block) + index.lists(covering: block, wide: true).filter { listActions[$0] == .annotate })).sorted()
    }

    /// The lists that match a name (normalised: lower case, no trailing dot): a `hostname` entry equal to
    /// it or to a parent of it, a `string` entry equal to it, a substring or a regex.
    public func matches(name: String) -> [Int] {
        Array(Set(index.lists(matchingText: name, asName: true))).sorted()
    }

    public func hits(_ ids: [Int]) -> [WarningListHit] {
        ids.map { WarningListHit(name: index.lists[$0].name, description: index.lists[$0].description) }
            .sorted { $0.name < $1.name }
    }
}

/// Finding the `list.json` files under the given paths, and the stamp that says whether they changed.
enum WarningListSource {
    /// `PATH` may be a checkout (its `lists/*/list.json`), a `lists` directory, one list's directory
    /// (holding `list.json`), or a JSON file. Sorted, absolute, each once.
    static func discover(_ paths: [String]) throws -> [String] {
        var out: [String] = []
        let fm = FileManager.default
        for given in paths {
            let path = URL(fileURLWithPath: given).standardizedFileURL.path
            var isDir: ObjCBool = false
            guard fm.fileExists(atPath: path, isDirectory: &isDir) else {
                throw WarningListError(path: given, message: "no such file or directory")
            }
            guard isDir.boolValue else { out.append(path); continue }
            if fm.fileExists(atPath: path + "/list.json") { out.append(path + "/list.json"); continue }
            let listsDir = fm.fileExists(atPath: path + "/lists") ? path + "/lists" : path
            let names: [String]
            do { names = try fm.contentsOfDirectory(atPath: listsDir) } catch {
                throw WarningListError(path: listsDir, message: "cannot read the directory: \(error.localizedDescription)")
            }
            let found = names.sorted().map { "\(listsDir)/\($0)/list.json" }.filter { fm.fileExists(atPath: $0) }
            guard !found.isEmpty else {
                throw WarningListError(path: given, message: "no warning list here (expected lists/*/list.json, */list.json or a list.json file)")
            }
            out += found
        }
        var seen = Set<String>()
        return out.filter { seen.insert($0).inserted }
    }

    /// The list's name: its directory for `…/NAME/list.json`, else the file name without `.json`.
    static func name(of path: String) -> String {
        let url = URL(fileURLWithPath: path)
        if url.lastPathComponent == "list.json" { return url.deletingLastPathComponent().lastPathComponent }
        let base = url.lastPathComponent
        return base.hasSuffix(".json") ? String(base.dropLast(5)) : base
    }

    /// Path, size and modification time of every file, hashed: equal while no file changed.
    static func stamp(_ files: [String]) throws -> String {
        var lines = ["format \(WarningListIndex.formatVersion)\n"]
        for f in files {
            let attrs: [FileAttributeKey: Any]
            do { attrs = try FileManager.default.attributesOfItem(atPath: f) } catch {
                throw WarningListError(path: f, message: "cannot read: \(error.localizedDescription)")
            }
            let size = (attrs[.size] as? NSNumber)?.int64Value ?? -1
            let mtime = (attrs[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
            lines.append("\(f)\t\(size)\t\(mtime)\n")
        }
        return FingerprintSet.stableHash(lines) + FingerprintSet.stableHash(lines.reversed())
    }
}
