/// Path arithmetic on text, for the places that need the directory of a file given by the user.
/// (`NSString.deletingLastPathComponent` of this Foundation traps on a path of one character, with or
/// without trailing slashes: `a`, `ш`, `x/`, `./`; found by Fuzz/FuzzConfig, docs/fuzzing.md.)
public enum PathText {
    /// The directory part of `path`, as `dirname` without its `.`: `a/b/c` → `a/b`, `/a` → `/`,
    /// `a/b/` → `a`, `a` → `` (no directory), `/` → `/`, `//x` → `/`.
    public static func directory(of path: String) -> String {
        var s = Substring(path)
        while s.count > 1, s.last == "/" { s.removeLast() }
        guard let slash = s.lastIndex(of: "/") else { return "" }
        var dir = s[..<slash]
        while dir.count > 1, dir.last == "/" { dir.removeLast() }
        return dir.isEmpty ? "/" : String(dir)
    }

    /// The last component of `path`: `a/b/c` → `c`, `a` → `a`, `a/b/` → `b`, `/` → `/`.
    public static func name(of path: String) -> String {
        var s = Substring(path)
        while s.count > 1, s.last == "/" { s.removeLast() }
        guard s != "/", let slash = s.lastIndex(of: "/") else { return String(s) }
        return String(s[s.index(after: slash)...])
    }
}
