import Crypto
import Foundation
public import Hummingbird
import HTTPTypes
public import Logging
import Synchronization

/// One API key: the name the request log shows, and the SHA-256 digest of the key (the key itself is not
/// kept).
public struct APIKey: Sendable {
    public let name: String
    let digest: [UInt8]

    public init(name: String, key: String) {
        self.name = name
        digest = Array(SHA256.hash(data: Data(key.utf8)))
    }
}

/// Why a key file cannot be used: the line and the reason (never the key).
public struct APIKeyFileError: Error, Sendable, CustomStringConvertible {
    public let line: Int
    public let reason: String
    public var description: String { "line \(line): \(reason)" }
}

/// Who may ask: with no keys everyone (the CLI allows that only on a loopback listener); with keys, a
/// request must carry one of them, except `/metrics` on a loopback listener.
public struct AuthPolicy: Sendable {
    public let keys: [APIKey]
    /// `/metrics` answers without a key (the server listens on loopback).
    public let metricsOpen: Bool

    public init(keys: [APIKey], metricsOpen: Bool) {
        self.keys = keys
        self.metricsOpen = metricsOpen
    }

    /// No keys: every request is answered (a loopback listener).
    public static let open = AuthPolicy(keys: [], metricsOpen: true)

    public var requiresKeys: Bool { !keys.isEmpty }

    /// The name of the key presented, or nil when it is none of them. Every stored key is compared, each
    /// digest byte by byte without an early exit, so the time taken says nothing about which bytes matched.
    public func name(of presented: String) -> String? {
        let digest = Array(SHA256.hash(data: Data(presented.utf8)))
        var found: String?
        for key in keys {
            var diff: UInt8 = 0
            for i in 0..<digest.count { diff |= digest[i] ^ key.digest[i] }
            if diff == 0, found == nil { found = key.name }
        }
        return found
    }

    /// Keys from a key file's text: one a line, `KEY` or `NAME KEY`; `#` starts a comment (a whole line or
    /// the rest of one), so a key never contains `#`.
    /// A key without a name is named `keyN` by its position among the file's keys (never by the key).
    public static func parseKeyFile(_ text: String) throws(APIKeyFileError) -> [APIKey] {
        var keys: [APIKey] = []
        var names = Set<String>()
        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            // `#` starts a comment, on a line of its own or after the key (`KEY  # the SOC's`): never a key,
            // never a name (a name is logged).
            let line = String(raw.prefix { $0 != "#" }).trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty { continue }
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            let name: String, key: String
            switch fields.count {
            case 1:
                name = "key\(keys.count + 1)"
                key = fields[0]
            case 2:
                name = fields[0]
                key = fields[1]
            default:
                throw APIKeyFileError(line: i + 1, reason: "expected KEY or NAME KEY, found \(fields.count) fields")
            }
            guard key.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
                throw APIKeyFileError(line: i + 1, reason: "a key is printable ASCII without spaces")
            }
            guard name.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }), name.utf8.count <= 64 else {
                throw APIKeyFileError(line: i + 1, reason: "a key's name is printable ASCII, at most 64 characters")
            }
            guard names.insert(name).inserted else {
                throw APIKeyFileError(line: i + 1, reason: "the name \(name) is given twice")
            }
            keys.append(APIKey(name: name, key: key))
        }
        guard !keys.isEmpty else { throw APIKeyFileError(line: 0, reason: "no key in the file") }
        return keys
    }

    /// The key a request presents: `X-API-Key: KEY`, `Authorization: Bearer KEY`, the password of
    /// `Authorization: Basic` (any user name), or `Authorization: KEY`.
    static func presentedKey(_ request: Request) -> String? {
        if let key = request.headers.first(where: { $0.name.canonicalName == "x-api-key" })?.value, !key.isEmpty { return key }
        guard let auth = request.headers[.authorization]?.trimmingCharacters(in: .whitespaces), !auth.isEmpty else { return nil }
        let parts = auth.split(separator: " ", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
        if parts.count == 2 {
            switch parts[0].lowercased() {
            case "bearer":
                return parts[1]
            case "basic":
                guard let decoded = Data(base64Encoded: parts[1]).map({ String(decoding: $0, as: UTF8.self) }),
                      let colon = decoded.firstIndex(of: ":") else { return nil }
                return String(decoded[decoded.index(after: colon)...])
            default:
                return auth
            }
        }
        return auth
    }
}

/// Checks the request's key against the policy: none → 401 with a Basic challenge, a wrong one → 403,
/// neither with data. Sets `context.keyName` to the key's name.
public struct AuthMiddleware: RouterMiddleware {
    public typealias Context = ServeContext
    let policy: AuthPolicy

    public init(policy: AuthPolicy) { self.policy = policy }

    public func handle(_ request: Request, context: ServeContext,
                       next: (Request, ServeContext) async throws -> Response) async throws -> Response {
        guard policy.requiresKeys else { return try await next(request, context) }
        let presented = AuthPolicy.presentedKey(request)
        let name = presented.flatMap(policy.name(of:))
        if let name { context.keyName = name }
        if policy.metricsOpen, request.uri.path == "/metrics" { return try await next(request, context) }
        guard presented != nil else {
            var headers = HTTPFields()
            headers[.wwwAuthenticate] = "Basic realm=\"dnswatch\""
            headers[.contentType] = "text/plain; charset=utf-8"
            return Response(status: .unauthorized, headers: headers,
                            body: .init(byteBuffer: ByteBuffer(string: "an API key is required (X-API-Key, Authorization: Bearer, or HTTP Basic password)\n")))
        }
        guard name != nil else {
            return Response(status: .forbidden, headers: [.contentType: "text/plain; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(string: "the API key is not valid\n")))
        }
        return try await next(request, context)
    }
}

/// Logs each request once its response has been written: the key's name (or `-`), method, path (without
/// the query string), status and duration. Never a key or a header.
public struct RequestLogMiddleware: RouterMiddleware {
    public typealias Context = ServeContext
    let logger: Logger

    public init(logger: Logger) { self.logger = logger }

    public func handle(_ request: Request, context: ServeContext,
                       next: (Request, ServeContext) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let method = request.method.rawValue
        let path = request.uri.path
        let logger = logger
        let identity = context.identity
        @Sendable func log(_ status: Int) {
            let elapsed = ContinuousClock.now - start
            let ms = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
            logger.info("\(identity.name) \(method) \(path) \(status) \(String(format: "%.1f", ms))ms")
        }
        do {
            var response = try await next(request, context)
            let status = response.status.code
            // HEAD: the router drops the body, which is never written; the request is logged now.
            if request.method == .head {
                log(status)
                return response
            }
            let body = response.body
            response.body = ResponseBody(contentLength: body.contentLength) { writer in
                do {
                    try await body.write(writer)
                    log(status)
                } catch {
                    log(status)
                    throw error
                }
            }
            return response
        } catch let error as any HTTPResponseError {
            log(error.status.code)
            throw error
        } catch {
            log(500)
            throw error
        }
    }
}

/// The name of the key that authenticated a request, shared by the context's copies (the request log,
/// outside the authentication, reads what it set).
public final class RequestIdentity: Sendable {
    private let value = Mutex("-")
    public var name: String {
        get { value.withLock { $0 } }
        set { value.withLock { $0 = newValue } }
    }
    init() {}
}
