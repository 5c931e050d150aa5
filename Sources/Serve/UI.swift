import DNSWatchModel
import Foundation
import Store
import HTTPTypes
import Hummingbird
import Investigation
import Detection

/// The web page (docs/web.md): `/` (search, latest alerts), `/ui/search?q=` (to the view of what was typed),
/// `/ui/domain/{name}` (the domain's timeline) and `/ui/ip/{address | prefix with '/' or ','}` (an address's
/// triage, a prefix's sightings). HTML rendered here from the API's data, one inline style sheet, no script;
/// bad input gets a 400 page saying why.
enum UIRoutes {
    /// Alerts on the front page.
    static let latestAlerts = 50
    /// Longest search or path value read (a domain name is at most 253 octets, an IPv6 prefix 43 characters).
    static let maxInput = 300
    /// Sightings listed for a prefix.
    static let maxPrefixHits = 500

    /// Every page's headers besides the content type: nothing may be loaded from elsewhere (no script at all),
    /// forms post only here, no framing, no sniffing, no referrer.
    static let securityHeaders: HTTPFields = {
        guard let referrerPolicy = HTTPField.Name("Referrer-Policy"), let frameOptions = HTTPField.Name("X-Frame-Options") else {
            preconditionFailure("Referrer-Policy and X-Frame-Options are valid field names")
        }
        return [
            .contentSecurityPolicy:
                "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
            .xContentTypeOptions: "nosniff",
            referrerPolicy: "no-referrer",
            frameOptions: "DENY",
            .cacheControl: "no-store",
        ]
    }()

    static func register(on router: Router<ServeContext>, _ deps: ServeDependencies) {
        router.get("/") { request, context in
            let alerts = try await deps.store.latestAlerts(limit: latestAlerts)
            return page(UIPages.home(alerts: alerts, limit: latestAlerts), request: request, context: context)
        }
        router.get("/ui/search") { request, context in
            let q: String
            do throws(BadRequest) {
                // Only `q` is read (a form may send others); a malformed one is refused, never guessed at.
                q = try request.queryList().first { $0.key == "q" }?.value ?? ""
            } catch {
                return page(UIPages.error(message: error.message), status: .badRequest, request: request, context: context)
            }
            return search(q, request: request, context: context)
        }
        router.get("/ui/domain/:name") { request, context in
            switch domainName(context.parameters.get("name") ?? "") {
            case .failure(let problem):
                return page(UIPages.error(message: problem.message, query: problem.input), status: .badRequest, request: request, context: context)
            case .success(let name):
                return page(try await domainView(name, deps), request: request, context: context)
            }
        }
        router.get("/ui/ip/**") { request, context in
            let raw = context.parameters.getCatchAll().joined(separator: "/")
            switch addressQuery(raw) {
            case .failure(let problem):
                return page(UIPages.error(message: problem.message, query: problem.input), status: .badRequest, request: request, context: context)
            case .success(.address(let ip)):
                let report = TriageOutput(try await deps.investigator.triage(ip.description))
                return page(UIPages.address(report), request: request, context: context)
            case .success(.prefix(let block)):
                var pages = deps.store.addressSpans(in: block, pageSize: maxPrefixHits + 1).makeAsyncIterator()
                let first = try await pages.next() ?? []
                return page(UIPages.prefix(block, hits: Array(first.prefix(maxPrefixHits)), more: first.count > maxPrefixHits),
                            request: request, context: context)
            }
        }
    }

    // MARK: - Input

    /// Why a value is refused, and the value as typed (shown back in the search box).
    struct Problem: Error {
        let message: String
        let input: String

        /// The message with control and format characters of the input made visible (`VisibleText`), as
        /// every refusal of the server writes them (the page escapes it again for HTML, which leaves it as is).
        init(message: String, input: String) {
            self.message = VisibleText.escape(message)
            self.input = input
        }
    }

    enum AddressQuery: Equatable {
        case address(IPAddress)
        case prefix(CIDR)
    }

    /// A path segment percent-decoded, bounded in length.
    static func decoded(_ raw: String) -> Result<String, Problem> {
        guard raw.utf8.count <= maxInput * 3 else { return .failure(Problem(message: "too long: more than \(maxInput) characters", input: "")) }
        guard let text = PercentText.decode(raw[...]) else {
            return .failure(Problem(message: "bad percent-encoding in '\(truncated(raw, 80))'", input: ""))
        }
        guard text.count <= maxInput else { return .failure(Problem(message: "too long: more than \(maxInput) characters", input: "")) }
        return .success(text.trimmingCharacters(in: .whitespaces))
    }

    static func domainName(_ raw: String) -> Result<DomainName, Problem> {
        decoded(raw).flatMap { text in
            do {
                return .success(try DomainName(text))
            } catch {
                return .failure(Problem(message: "not a domain name: '\(truncated(text, 80))': \(error)", input: text))
            }
        }
    }

    /// An address, or a prefix written `a.b.c.d/len` or `a.b.c.d,len` (a host prefix is the address).
    static func addressQuery(_ raw: String) -> Result<AddressQuery, Problem> {
        decoded(raw).flatMap { text in
            let slashed = text.replacingOccurrences(of: ",", with: "/")
            if !slashed.contains("/"), let ip = IPAddress(slashed) {
                return .success(.address(ip))
            }
            guard slashed.contains("/"), let block = CIDR(slashed) else {
                return .failure(Problem(message: "not an address or prefix: '\(truncated(text, 80))' (an address such as 192.0.2.1 or 2001:db8::1, or a prefix such as 192.0.2.0/24)", input: text))
            }
            let unmapped = block.unmapped
            if unmapped.prefixLength == unmapped.network.bytes.count * 8 { return .success(.address(unmapped.network)) }
            return .success(.prefix(unmapped))
        }
    }

    /// The search box: to the address view for an address or prefix, else to the domain view.
    static func search(_ q: String, request: Request, context: ServeContext) -> Response {
        // A form's query is form-encoded: '+' is a space (no name or address holds one).
        let text = q.replacingOccurrences(of: "+", with: " ").trimmingCharacters(in: .whitespaces)
        guard !text.isEmpty else {
            return page(UIPages.error(message: "type a domain name, an address or a prefix"), status: .badRequest, request: request, context: context)
        }
        guard text.count <= maxInput else {
            return page(UIPages.error(message: "too long: more than \(maxInput) characters"), status: .badRequest, request: request, context: context)
        }
        let looksLikeAddress = text.contains(":") || text.contains("/") || text.contains(",") || IPAddress(text) != nil
        let target: Result<String, Problem> = looksLikeAddress
            ? addressQuery(text).map { q in
                switch q {
                case .address(let ip): UIPages.addressHref(ip.description)
                case .prefix(let block): UIPages.addressHref(block.description)
                }
            }
            : domainName(text).map { UIPages.domainHref($0.value) }
        switch target {
        case .failure(let problem):
            return page(UIPages.error(message: problem.message, query: problem.input), status: .badRequest, request: request, context: context)
        case .success(let location):
            var response = Response.redirect(to: location, type: .normal)
            secure(&response.headers)
            return response
        }
    }

    // MARK: - Views

    static func domainView(_ name: DomainName, _ deps: ServeDependencies) async throws -> HTML {
        let lines = try await deps.store.history(domain: name.value, type: nil, since: nil, until: nil, source: nil).map(HistoryLine.init)
        let alerts = try await deps.store.alerts(domain: name.value)
        let state = try await deps.store.state(of: name.value)
        let lists = try await deps.store.memberships(of: [name.value])[name.value] ?? []
        // A stored value this version cannot read is said in the Explain section; the rest of the page stands.
        var explanation: Explanation?, problem: String?
        do {
            explanation = try await deps.explainer.explain(name.value, now: Int64(Date().timeIntervalSince1970))
        } catch let e as ExplainError {
            problem = e.description
        } catch let e as UnknownAlertError {
            problem = e.description
        }
        return UIPages.domain(UIPages.DomainView(
            name: name.value, state: state, lists: lists, timeline: Timeline(spans: lines, alerts: alerts),
            spans: Array(lines.suffix(UIPages.maxTableRows)), alerts: alerts, explanation: explanation, explainProblem: problem))
    }

    // MARK: - Responses

    static func page(_ html: HTML, status: HTTPResponse.Status = .ok, request: Request, context: ServeContext) -> Response {
        var response = html.text.response(from: request, context: context)
        response.status = status
        response.headers[.contentType] = "text/html; charset=utf-8"
        secure(&response.headers)
        return response
    }

    static func secure(_ headers: inout HTTPFields) {
        for field in securityHeaders { headers[field.name] = field.value }
    }
}
