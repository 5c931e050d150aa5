import DNSWatchApp
import DNSWatchConfig
import Detection
import ArgumentParser
import Classification
import DNSWatchModel
import Foundation
import Store
import Investigation

struct Explain: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Why a domain is in its state: its values and what matched them, last transitions and alerts, damping, next due.",
        discussion: """
            Each current value (A/AAAA addresses, NS names, CNAME targets) is classified again, as 'classify' does, and \
            shown with the fingerprint or warning list (and its source) that matched. Then the domain's lists, its last 10 \
            transitions and alerts (newest first), its flap-damping penalty decayed to now and whether its alerts are held \
            back, its last unconfirmed observation, and when it was last polled, is next due and last failed. \
            A domain dnswatch does not know (never watched, no imported record) is an error: a sentence on stderr, exit 1. \
            --json prints one object (fields: docs/triage.md, "Explaining a domain").
            """)

    @OptionGroup var store: StoreOptions
    @OptionGroup var config: ConfigOptions
    @OptionGroup var fingerprints: FingerprintFlags
    @Argument(help: "The domain name.") var domain: String
    @Flag(help: "One JSON object.") var json = false

    func run() async throws {
        try await reporting {
            let name = try domainArgument(domain).value
            let config = try config.load()
            let classifier = try fingerprints.classifier(config: config)
            let now = Int64(Date().timeIntervalSince1970)
            let explanation = try await store.reading("dnswatch.explain") { reader in
                let history = reader.history
                let explainer = Explainer(store: history, classifier: classifier, asns: Investigator.cachedASNs(history), damping: config.damping)
                return try await explainer.explain(name, now: now)
            }
            guard let explanation else {
                throw CLIError(code: Exit.failure, description: "\(name) is not known: it was never watched and has no imported record")
            }
            if json {
                print(try JSONLine.encode(ExplainOutput(explanation)))
            } else {
                print(Self.text(explanation, now: now))
            }
        }
    }

    static func text(_ e: Explanation, now: Int64) -> String {
        var out: [String] = []
        let state = e.state.map { "\($0.state) since \(isoTime($0.since))" } ?? "no state yet (never polled with an answer)"
        out.append("\(e.domain): \(state)")
        out.append("lists: " + (e.lists.isEmpty ? "none" : e.lists.map { "\($0.list) (\($0.kind.rawValue))" }.joined(separator: ", ")))
        if !e.answers.isEmpty {
            out.append("")
            var rows: [[String]] = []
            for a in e.answers {
                if a.values.isEmpty {
                    rows.append([a.rrtype.rawValue, a.status.rawValue, "-", "-", "-"])
                }
                for v in a.values {
                    let cls = v.verdict.subtype.map { "\(v.verdict.class.rawValue) (\($0))" } ?? v.verdict.class.rawValue
                    let evidence = v.verdict.evidence.map { "\($0.kind.rawValue) \($0.match) (\($0.source))" } ?? v.verdict.reason
                    rows.append([a.rrtype.rawValue, v.value, cls, v.verdict.provider ?? v.verdict.weakProvider ?? "-", evidence])
                }
            }
            out.append(table(["TYPE", "VALUE", "CLASS", "PROVIDER", "EVIDENCE"], rows))
        }
        let d = e.damping
        out.append("")
        out.append("damping (\(d.kind.rawValue)): penalty \(Int(d.penalty)) now (suppress \(Int(d.figures.suppress)), reuse \(Int(d.figures.reuse))); "
            + (d.suppressedSince.map { "alerts held back since \(isoTime($0))" } ?? "alerting"))
        if let u = e.unconfirmed {
            out.append("unconfirmed at \(isoTime(u.time)) (still \(u.from)): \(u.summary); disagreement over \(e.disagreementPolls) poll(s)")
        }
        out.append("last polled: \(e.status.lastPolled.map(isoTime) ?? "never"); next due: \(e.status.nextDue.map(isoTime) ?? "at the next poll")")
        if let f = e.status.lastFailure {
            out.append("last failure: \(isoTime(f))\(e.status.lastFailureType.map { " \($0)" } ?? "")\(e.status.lastFailureKind.map { " (\($0))" } ?? "")")
        }
        if !e.transitions.isEmpty {
            out.append("")
            out.append(table(["TIME", "TRANSITION", "FROM", "TO"], e.transitions.map {
                [isoTime($0.time), $0.type.rawValue, $0.from.description, $0.to.description]
            }))
        }
        if !e.alerts.isEmpty {
            out.append("")
            out.append(table(["ID", "TIME", "TYPE", "SEVERITY", "MESSAGE"], e.alerts.map {
                [String($0.id), isoTime($0.time), $0.type.rawValue, $0.severity.rawValue, $0.message]
            }))
        }
        return out.joined(separator: "\n")
    }
}
