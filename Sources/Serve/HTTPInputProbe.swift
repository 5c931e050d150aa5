package import DNSWatchModel
import Store
import HTTPTypes

/// For the libFuzzer target `FuzzHTTP` (Fuzz/FuzzHTTP, docs/fuzzing.md): the parsers of a request's path and
/// query run over one input, as the routes run them, and what each made of it: the value a route would use,
/// or the sentence of its 400. Nothing here is used by a route.
package enum HTTPInputProbe {
    package enum Outcome: Sendable, Equatable {
        /// Percent-decoded query parameters.
        case parameters([String])
        /// A percent-decoded path segment.
        case segment(String)
        /// A name or `*.suffix` (DNSDB, CIRCL): the stored form.
        case name(exact: String?, subdomainsOf: String?)
        /// An address or prefix (DNSDB, CIRCL, /api/v1/ip).
        case block(CIDR)
        /// A record type in a path or header.
        case type(String)
        /// DNSDB's parameters: limit, offset, the time fences (epoch seconds), max_count.
        case dnsdb(limit: Int, offset: Int, fences: [Int64], maxCount: Int?)
        /// CIRCL's dribble headers: page size and cursor.
        case circl(count: Int, cursor: Int)
        /// The web page's address or prefix.
        case uiAddress(String)
        /// An /api/v1 time (`since`, `until`, `at`).
        case time(Int64)
        /// A refusal: the sentence of the 400.
        case refused(String)
    }

    /// `now` of DNSDB's relative fences.
    package static let now: Int64 = 1_800_000_000

    /// The input is read three ways: whole as a query string, whole as a path segment (then as a name, a
    /// prefix, a type, a web-page address, an API time), and its first line as CIRCL's dribble headers
    /// (count, cursor and type filter all take it).
    package static func outcomes(_ text: String) -> [Outcome] {
        var out: [Outcome] = []
        do {
            let parameters = try QueryText.parameters(text)
            out.append(.parameters(parameters.map { $0.key + "=" + $0.value }))
            let q = try DNSDBQuery(parameters, summarize: parameters.count % 2 == 0, now: now)
            out.append(.dnsdb(limit: q.limit, offset: q.offset,
                              fences: [q.fence.firstBefore, q.fence.firstAfter, q.fence.lastBefore, q.fence.lastAfter].compactMap { $0 },
                              maxCount: q.maxCount))
        } catch {
            out.append(.refused(error.message))
        }
        do {
            let segment = try PathValue.decode(text, what: "name")
            out.append(.segment(segment))
            do {
                switch try PathValue.name(segment) {
                case .exact(let n): out.append(.name(exact: n, subdomainsOf: nil))
                case .subdomains(let suffix): out.append(.name(exact: nil, subdomainsOf: suffix))
                }
            } catch {
                out.append(.refused(error.message))
            }
            do { out.append(.block(try PathValue.block(segment))) } catch { out.append(.refused(error.message)) }
            do { out.append(.type(String(describing: try TypeQuery(segment)))) } catch { out.append(.refused(error.message)) }
        } catch {
            out.append(.refused(error.message))
        }
        switch UIRoutes.addressQuery(text) {
        case .success(.address(let ip)): out.append(.uiAddress(ip.description))
        case .success(.prefix(let block)): out.append(.uiAddress(block.description))
        case .failure(let problem): out.append(.refused(problem.message))
        }
        do {
            out.append(.time(try APIRoutes.time("since", text)))
        } catch {
            out.append(.refused(error.message))
        }
        let line = String(text.prefix { $0 != "\n" && $0 != "\r" })
        var headers = HTTPFields()
        for name in [CIRCLRoutes.countHeader, CIRCLRoutes.cursorHeader, CIRCLRoutes.filterHeader] {
            if let field = HTTPField.Name(name), line.utf8.allSatisfy({ $0 >= 0x20 && $0 != 0x7F }) { headers[field] = line }
        }
        do {
            let page = try CIRCLRoutes.Page(headers)
            out.append(.circl(count: page.count, cursor: page.cursor))
        } catch {
            out.append(.refused(error.message))
        }
        return out
    }
}
