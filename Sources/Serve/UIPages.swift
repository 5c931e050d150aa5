import DNSWatchModel
import Store
import Investigation
import Detection

/// The web page's views, rendered on the server from the same data the API serves. Every stored value goes in
/// through `HTML` interpolation (escaped); every time is shown in UTC.
enum UIPages {
    /// Rows of a table beyond which the page stops and says how many it left out.
    static let maxTableRows = 500

    static func layout(title: String, query: String = "", _ body: HTML) -> HTML {
        """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="referrer" content="no-referrer">
        <title>\(title) · dnswatch</title>
        <style>
        \(HTML(stringLiteral: UIStyle.css))
        </style>
        </head>
        <body>
        <header>
        <a href="/">dnswatch</a>
        <form method="get" action="/ui/search" role="search">
        <input type="search" name="q" value="\(query)" placeholder="domain, address or prefix (c2.example, 91.195.240.94, 91.195.240.0/23)" aria-label="domain, address or prefix" maxlength="300" required>
        <button type="submit">Search</button>
        </form>
        </header>
        <main>
        \(body)
        </main>
        <footer>All times UTC. Read-only view of the dnswatch history.</footer>
        </body>
        </html>

        """
    }

    // MARK: - Views

    static func home(alerts: [StoredAlert], limit: Int) -> HTML {
        let table: HTML = alerts.isEmpty ? "<p class=\"muted\">No alerts yet.</p>" : alertTable(alerts, withDomain: true)
        return layout(title: "dnswatch", """
            <h1>Search the history</h1>
            <p class="muted">A domain shows its resolution history as a timeline; an address shows its triage and the
            watched domains that resolved into it; a prefix (<span class="mono">91.195.240.0/23</span>) lists them.</p>
            <h2>Latest alerts</h2>
            \(alerts.count == limit ? "<p class=\"muted\">The latest \(limit).</p>" as HTML : .empty)
            \(table)
            """)
    }

    static func error(message: String, query: String = "") -> HTML {
        layout(title: "Bad request", query: query, """
            <h1>Bad request</h1>
            <p class="error">\(message)</p>
            <p><a href="/">Back to the search</a></p>
            """)
    }

    struct DomainView: Sendable {
        let name: String
        let state: DomainState?
        let lists: [WatchedDomain]
        let timeline: Timeline
        /// The spans for the table, oldest first (at most `maxTableRows`, the latest).
        let spans: [HistoryLine]
        let alerts: [StoredAlert]
        /// What `explain` says of the domain (nil: dnswatch does not know it).
        let explanation: Explanation?
        /// Why there is no explanation: a stored value this version cannot read (nil: none).
        let explainProblem: String?
    }

    static func domain(_ v: DomainView) -> HTML {
        let t = v.timeline
        guard t.spansTotal > 0 || !v.alerts.isEmpty else {
            return layout(title: v.name, query: v.name, """
                <h1>\(v.name)</h1>
                <p class="note" id="no-history">No history for \(v.name): dnswatch has not recorded an answer for it.
                Watch it and poll it, or search an address.</p>
                \(lists(v.lists))
                """)
        }
        let state: HTML = v.state.map { s in
            "<span class=\"pill\" data-class=\"\(s.class.rawValue)\">\(s.class.rawValue)</span>\(s.provider.map { " \($0)" } ?? "")"
        } ?? "<span class=\"muted\">none yet (no complete poll)</span>"
        let shownSpans = v.spans.count < t.spansTotal
            ? "<p class=\"note\">The table shows the latest \(v.spans.count) of \(t.spansTotal) spans.</p>" as HTML : .empty
        let shownAlerts = min(v.alerts.count, maxTableRows)
        return layout(title: v.name, query: v.name, """
            <h1>\(v.name)</h1>
            <dl class="facts">
            <dt>Current state</dt><dd id="state">\(state)</dd>
            <dt>Spans</dt><dd>\(t.spansTotal)</dd>
            <dt>Alerts</dt><dd>\(v.alerts.count)</dd>
            <dt>Lists</dt><dd>\(v.lists.isEmpty ? "none" : Array(Set(v.lists.map { "\($0.list) (\($0.kind.rawValue))" })).sorted().joined(separator: ", "))</dd>
            </dl>
            \(v.explanation.map(explain) ?? .empty)
            \(v.explainProblem.map { "<h2>Explain</h2><p class=\"note\" id=\"explain-problem\">Cannot explain \(v.name): \($0)</p>" as HTML } ?? .empty)
            <h2>Timeline</h2>
            \(timeline(t))
            \(lists(v.lists))
            <h2>Alerts</h2>
            \(v.alerts.isEmpty ? "<p class=\"muted\">No alerts for this domain.</p>" as HTML
                : alertTable(Array(v.alerts.suffix(shownAlerts).reversed()), withDomain: false))
            \(v.alerts.count > shownAlerts ? "<p class=\"note\">The latest \(shownAlerts) of \(v.alerts.count) alerts.</p>" as HTML : .empty)
            <h2>Spans</h2>
            \(shownSpans)
            \(spanTable(v.spans))
            """)
    }

    static func address(_ r: TriageOutput) -> HTML {
        let shown = r.details.prefix(maxTableRows)
        let rows = shown.map { d -> HTML in
            """
            <tr data-domain="\(d.domain)"><td><a href="\(domainHref(d.domain))">\(d.domain)</a></td>
            <td>\(d.lists.joined(separator: ", "))\(d.watched ? .empty : " <span class=\"muted\">(no longer watched)</span>" as HTML)</td>
            <td>\(d.addresses.joined(separator: ", "))</td>
            <td>\(pill(d.class))</td>
            <td class="time" data-time="\(ISOTime.format(d.time_first))">\(shownTime(d.time_first))</td>
            <td class="time" data-time="\(ISOTime.format(d.time_last))">\(shownTime(d.time_last))</td>
            <td>\(d.current ? "yes" : "no")</td></tr>
            """
        }
        let table: HTML = r.details.isEmpty ? "<p class=\"muted\">None of the watched domains has resolved into it.</p>" : """
            <table id="domains"><thead><tr><th>Domain</th><th>Lists</th><th>Addresses</th><th>Class there</th><th>First seen</th><th>Last seen</th><th>Now</th></tr></thead>
            <tbody>\(HTML(joining: rows))</tbody></table>
            \(r.details.count > shown.count ? "<p class=\"note\">The first \(shown.count) of \(r.details.count) domains.</p>" as HTML : .empty)
            """
        return layout(title: r.query, query: r.query, """
            <h1>\(r.query)</h1>
            <dl class="facts" id="triage" data-verdict="\(r.verdict)" data-class="\(r.class)">
            <dt>Class</dt><dd>\(pill(r.class))</dd>
            <dt>Provider</dt><dd>\(r.provider ?? "—")</dd>
            <dt>ASN</dt><dd>\(r.asn.map { "AS\($0)" } ?? "— (not in the cache)")</dd>
            <dt>Verdict</dt><dd><b>\(r.verdict)</b></dd>
            <dt>Reason</dt><dd>\(r.reason)</dd>
            <dt>Fan-in</dt><dd>\(r.fan_in) of the watched domains</dd>
            </dl>
            <h2>Domains that resolved into it</h2>
            \(table)
            """)
    }

    static func prefix(_ block: CIDR, hits: [ValueHit], more: Bool) -> HTML {
        let rows = hits.map { h -> HTML in
            """
            <tr data-domain="\(h.span.domain)"><td><a href="\(domainHref(h.span.domain))">\(h.span.domain)</a></td>
            <td><a href="\(addressHref(h.value))">\(h.value)</a></td><td>\(h.span.rrtype.rawValue)</td>
            <td>\(pill(h.span.class?.rawValue))</td>
            <td class="time" data-time="\(ISOTime.format(h.span.timeFirst))">\(shownTime(h.span.timeFirst))</td>
            <td class="time" data-time="\(ISOTime.format(h.span.timeLast))">\(shownTime(h.span.timeLast))</td>
            <td>\(h.current ? "yes" : "no")</td></tr>
            """
        }
        let body: HTML = hits.isEmpty ? "<p class=\"muted\">None of the watched domains has resolved into it.</p>" : """
            \(more ? "<p class=\"note\">The first \(hits.count) sightings, by address; there are more: search a narrower prefix.</p>" as HTML : .empty)
            <table id="domains"><thead><tr><th>Domain</th><th>Address</th><th>Type</th><th>Class of the answer</th><th>First seen</th><th>Last seen</th><th>Now</th></tr></thead>
            <tbody>\(HTML(joining: rows))</tbody></table>
            """
        return layout(title: block.description, query: block.description, """
            <h1>\(block.description)</h1>
            <p class="muted">Watched domains whose A or AAAA answers held an address in this prefix, one row per span and
            address. Follow an address for its triage.</p>
            \(body)
            """)
    }

    // MARK: - Parts

    static func lists(_ lists: [WatchedDomain]) -> HTML {
        guard !lists.isEmpty else { return "<p class=\"muted\">On no watchlist.</p>" }
        let rows = lists.sorted { $0.list < $1.list }.map { m -> HTML in
            """
            <tr><td>\(m.list)</td><td>\(m.kind.rawValue)</td><td class="time">\(shownTime(m.added))</td>\
            <td class="time">\(m.retired.map(shownTime) ?? "")</td><td>\(m.note ?? "")</td></tr>
            """
        }
        return """
            <h2>Lists</h2>
            <table id="lists"><thead><tr><th>List</th><th>Kind</th><th>Added</th><th>Removed</th><th>Note</th></tr></thead>
            <tbody>\(HTML(joining: rows))</tbody></table>
            """
    }

    static func legend() -> HTML {
        let items = UIStyle.classes.map { c -> HTML in
            "<li><span class=\"sw\" data-class=\"\(c.name)\"></span>\(c.name) <span class=\"muted\">(\(c.meaning))</span></li>"
        }
        return "<ul class=\"legend\" id=\"legend\">\(HTML(joining: items))<li><span class=\"am\"></span>alert</li></ul>"
    }

    static func timeline(_ t: Timeline) -> HTML {
        var notes: [HTML] = []
        if t.spansDrawn < t.spansTotal {
            notes.append("<p class=\"note\" id=\"capped\">Drawn: \(t.spansDrawn) of \(t.spansTotal) spans in \(t.rows.count) of \(t.rowsTotal) rows (the latest seen); the rest are left out.</p>")
        }
        if t.marks.count < t.alertsTotal {
            notes.append("<p class=\"note\">Marked: the latest \(t.marks.count) of \(t.alertsTotal) alerts.</p>")
        }
        let ticks = t.ticks().map { "<span class=\"tick\" style=\"left:\(percent: t.position($0.time))\">\($0.label)</span>" as HTML }
        let rows = t.rows.map { row -> HTML in
            let answer = row.status == AnswerStatus.noerror.rawValue ? row.rdata.joined(separator: " ") : row.status
            let bars = row.bars.map { b -> HTML in
                let cls = b.class ?? "unclassified"
                let rdata = b.rdata.joined(separator: " ")
                let title = "\(b.rrtype) \(b.status == AnswerStatus.noerror.rawValue ? rdata : b.status) — \(cls)\(b.provider.map { " (\($0))" } ?? "") · "
                    + "\(shownTime(b.time_first)) → \(shownTime(b.time_last)), seen \(b.count)×"
                return """
                    <div class="bar" data-rrtype="\(b.rrtype)" data-rdata="\(rdata)" data-status="\(b.status)" data-class="\(cls)" \
                    data-provider="\(b.provider ?? "")" data-first="\(ISOTime.format(b.time_first))" data-last="\(ISOTime.format(b.time_last))" \
                    data-count="\(b.count)" style="left:\(percent: t.position(b.time_first));width:\(percent: t.position(b.time_last) - t.position(b.time_first))" \
                    title="\(title)"></div>
                    """
            }
            return """
                <div class="tl-row" data-row-rrtype="\(row.rrtype)" data-row-answer="\(answer)"><div class="tl-label" title="\(row.rrtype) \(answer)"><b>\(row.rrtype)</b> \(truncated(answer, 80))</div>\
                <div class="tl-track">\(HTML(joining: bars))</div></div>
                """
        }
        let marks = t.marks.map { a -> HTML in
            """
            <div class="mark" data-alert-type="\(a.type)" data-severity="\(a.severity)" data-time="\(ISOTime.format(a.time))" \
            style="left:\(percent: t.position(a.time))" title="\(a.type) (\(a.severity)) at \(shownTime(a.time)): \(truncated(a.message, 300))"><span>\(a.type)</span></div>
            """
        }
        return """
            \(legend())
            \(notes)
            <div class="tl" id="timeline" data-start="\(ISOTime.format(t.start))" data-end="\(ISOTime.format(t.end))">
            <div class="tl-row tl-axis"><div class="tl-label muted">UTC</div><div class="tl-track">\(HTML(joining: ticks))</div></div>
            \(HTML(joining: rows))
            <div class="tl-marks">\(HTML(joining: marks))</div>
            </div>
            """
    }

    /// The "Explain" section: what `dnswatch explain` says (docs/triage.md, "Explaining a domain").
    static func explain(_ e: Explanation) -> HTML {
        let rows = e.answers.flatMap { a -> [HTML] in
            guard !a.values.isEmpty else {
                return ["<tr class=\"explained\" data-rrtype=\"\(a.rrtype.rawValue)\"><td>\(a.rrtype.rawValue)</td><td>\(a.status.rawValue)</td><td></td><td></td><td></td></tr>"]
            }
            return a.values.map { v -> HTML in
                let evidence = v.verdict.evidence.map { "\($0.kind.rawValue) \($0.match) (source \($0.source))" } ?? v.verdict.reason
                return """
                    <tr class="explained" data-rrtype="\(a.rrtype.rawValue)" data-value="\(v.value)" data-evidence-kind="\(v.verdict.evidence?.kind.rawValue ?? "")">\
                    <td>\(a.rrtype.rawValue)</td><td class="rdata">\(v.value)</td><td>\(pill(v.verdict.class.rawValue))</td>\
                    <td>\(v.verdict.provider ?? v.verdict.weakProvider ?? "")</td><td class="evidence">\(truncated(evidence, 500))</td></tr>
                    """
            }
        }
        let d = e.damping
        let damping: HTML = """
            <span id="damping" data-suppressed="\(d.suppressed ? "true" : "false")" data-penalty="\(Int(d.penalty))">penalty \(Int(d.penalty)) now \
            (\(d.kind.rawValue): suppress at \(Int(d.figures.suppress)), reuse below \(Int(d.figures.reuse))); \
            \(d.suppressedSince.map { "alerts held back since \(shownTime($0))" } ?? "alerting")</span>
            """
        let unconfirmed: HTML = e.unconfirmed.map { u in
            "<dt>Unconfirmed</dt><dd id=\"unconfirmed\">\(shownTime(u.time)): \(truncated(u.summary, 1000)) (disagreement over \(e.disagreementPolls) poll(s))</dd>"
        } ?? .empty
        let failure: HTML = e.status.lastFailure.map { t in
            "<dt>Last failure</dt><dd>\(shownTime(t)) \(e.status.lastFailureType ?? "") \(e.status.lastFailureKind ?? "")</dd>"
        } ?? .empty
        return """
            <h2>Explain</h2>
            <table id="explain"><thead><tr><th>Type</th><th>Value</th><th>Class</th><th>Provider</th><th>Evidence</th></tr></thead>
            <tbody>\(HTML(joining: rows))</tbody></table>
            <dl class="facts">
            <dt>State since</dt><dd>\(e.state.map { shownTime($0.since) } ?? "none yet")</dd>
            <dt>Flap damping</dt><dd>\(damping)</dd>
            \(unconfirmed)
            <dt>Last polled</dt><dd>\(e.status.lastPolled.map(shownTime) ?? "never")</dd>
            <dt>Next due</dt><dd id="next-due">\(e.status.nextDue.map(shownTime) ?? "at the next poll")</dd>
            \(failure)
            </dl>
            """
    }

    static func alertTable(_ alerts: [StoredAlert], withDomain: Bool) -> HTML {
        let rows = alerts.map { a -> HTML in
            """
            <tr class="alert" data-alert-type="\(a.type)" data-time="\(ISOTime.format(a.time))"><td class="time">\(shownTime(a.time))</td>\
            \(withDomain ? "<td><a href=\"\(domainHref(a.domain))\">\(a.domain)</a></td>" as HTML : .empty)\
            <td>\(a.type)</td><td class="sev-\(a.severity)">\(a.severity)</td><td>\(a.list)</td><td class="msg">\(truncated(a.message, 500))</td></tr>
            """
        }
        return """
            <table id="alerts"><thead><tr><th>Time</th>\(withDomain ? "<th>Domain</th>" as HTML : .empty)<th>Type</th><th>Severity</th><th>List</th><th>Message</th></tr></thead>
            <tbody>\(HTML(joining: rows))</tbody></table>
            """
    }

    static func spanTable(_ spans: [HistoryLine]) -> HTML {
        let rows = spans.map { s -> HTML in
            """
            <tr class="span"><td>\(s.rrtype)</td><td>\(s.status)</td><td class="rdata">\(truncated(s.rdata.joined(separator: " "), 1000))</td>\
            <td>\(pill(s.class))</td><td>\(s.provider ?? "")</td>\
            <td class="time">\(shownTime(s.time_first))</td><td class="time">\(shownTime(s.time_last))</td><td>\(s.count)</td>\
            <td>\(SourceName.of(s.source))</td></tr>
            """
        }
        return """
            <table id="spans"><thead><tr><th>Type</th><th>Status</th><th>Answer</th><th>Class</th><th>Provider</th><th>First seen (UTC)</th><th>Last seen (UTC)</th><th>Count</th><th>Source</th></tr></thead>
            <tbody>\(HTML(joining: rows))</tbody></table>
            """
    }

    static func pill(_ cls: String?) -> HTML {
        let c = cls ?? "unclassified"
        return "<span class=\"pill\" data-class=\"\(c)\">\(c)</span>"
    }

    /// Links to the views. Names and addresses here are normalised (letters, digits, `-`, `_`, `.`, `:`), so the
    /// path needs no percent-encoding; the attribute is escaped all the same.
    static func domainHref(_ name: String) -> String { "/ui/domain/" + name }
    static func addressHref(_ address: String) -> String { "/ui/ip/" + address }
}
