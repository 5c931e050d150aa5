import Foundation

/// One HTTP exchange made with `curl`, a client outside the product: status, response headers and body.
public struct HTTPReply: Sendable, CustomStringConvertible {
    public let status: Int
    /// Header names lower-cased; a repeated header keeps its last value.
    public let headers: [String: String]
    public let body: String
    /// Seconds curl measured from start to end (`%{time_total}`): for figures, never for assertions.
    public let seconds: Double

    public var description: String { "HTTP \(status) \(headers) \(body.prefix(2000))" }
}

/// `curl` as the tests' HTTP client (it is what operators use, and it owes nothing to the server's code).
public enum HTTP {
    public static let curl = "/usr/bin/curl"

    /// Sends one request. `headers` are `Name: value` lines; `method` other than GET is sent with `-X`
    /// (HEAD with `-I`). `maxSeconds` bounds the whole exchange so a hung server fails the test instead of
    /// hanging it. Status 0 means curl got no HTTP reply (connection refused, reset, timed out).
    public static func request(_ url: String, method: String = "GET", headers: [String] = [], body: String? = nil,
                               maxSeconds: Int = 30) async throws -> HTTPReply {
        guard FileManager.default.isExecutableFile(atPath: curl) else {
            throw TestSupportError.process("\(curl) is missing: run scripts/install-deps")
        }
        // Headers then body on stdout, then the status and time after a last newline. HEAD (`-I`) prints the
        // headers itself; everything else dumps them with `-D -`.
        var args = ["-s", "-m", String(maxSeconds), "-o", "-", "-w", "\n%{http_code} %{time_total}"]
        switch method {
        case "GET": args += ["-D", "-"]
        case "HEAD": args.append("-I")
        default: args += ["-D", "-", "-X", method]
        }
        args += headers.flatMap { ["-H", $0] }
        if let body { args += ["--data-binary", body] }
        args.append(url)
        let r = try await ChildProcess.run(URL(fileURLWithPath: curl), args)
        let text = r.out
        let cut = text.lastIndex(of: "\n")
        let tail = cut.map { text[text.index(after: $0)...] } ?? Substring(text)
        let fields = tail.split(separator: " ")
        let status = fields.first.flatMap { Int($0) } ?? 0
        let seconds = fields.dropFirst().first.flatMap { Double($0) } ?? -1
        let reply = cut.map { String(text[..<$0]) } ?? ""
        let split = reply.range(of: "\r\n\r\n")
        let rawHeaders = split.map { String(reply[..<$0.lowerBound]) } ?? reply
        let bodyText = split.map { String(reply[$0.upperBound...]) } ?? ""
        var headerMap: [String: String] = [:]
        for line in rawHeaders.split(whereSeparator: { $0 == "\r\n" || $0 == "\n" }).dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headerMap[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return HTTPReply(status: status, headers: headerMap, body: bodyText, seconds: seconds)
    }

    /// GET `url` with request headers.
    public static func get(_ url: String, headers: [String] = [], maxSeconds: Int = 30) async throws -> HTTPReply {
        try await request(url, headers: headers, maxSeconds: maxSeconds)
    }
}
