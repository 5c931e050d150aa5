import Detection
import Store
import Hummingbird
import Prometheus
import Synchronization

/// `/metrics`: the Prometheus text format, written by swift-prometheus's `PrometheusCollectorRegistry`.
///
/// Every value comes from the database at scrape time, so `serve` next to polls run by cron in other
/// processes and `daemon --listen` report the same truth. Counters stay monotonic: a scrape reads only the
/// polls and alerts with an id above those already counted (`SQLiteStore.metricsReading`) and adds them;
/// the histogram observes each finished poll once, by id. Labels are closed sets: `result` is answered or
/// failed, alert `type` and `severity` come from the `AlertType` and `Severity` enums (all 50 pairs exist
/// from the start, at 0); no domain name is ever a label.
enum MetricsRoutes {
    static func register(on router: Router<ServeContext>, _ deps: ServeDependencies) {
        let metrics = ScrapedMetrics(store: deps.store)
        router.get("metrics") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                     body: .init(byteBuffer: ByteBuffer(bytes: try await metrics.scrape())))
        }
    }
}

/// The registry of one server and what it has counted so far.
final class ScrapedMetrics: Sendable {
    /// Poll durations are whole seconds (polls record epoch seconds).
    static let durationBuckets: [Double] = [1, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600]

    let store: any ServeReading
    let registry = PrometheusCollectorRegistry()
    private let polls: Counter, answered: Counter, failed: Counter
    private let duration: ValueHistogram
    private let outbox: Gauge, watched: Gauge, lastPoll: Gauge
    private let alerts: [AlertType: [Severity: Counter]]

    private struct Counted {
        /// The highest poll id and alert id already counted.
        var poll: Int64 = 0
        var alert: Int64 = 0
        var lastFinished: Int64? = nil
    }
    private let counted = Mutex(Counted())

    init(store: any ServeReading) {
        self.store = store
        func name(_ n: String, _ help: String) -> MetricNameDescriptor {
            MetricNameDescriptor(metricName: n, unitName: "", helpText: help)  // the unit is in the name already
        }
        polls = registry.makeCounter(descriptor: name("dnswatch_polls_total", "Poll runs finished."))
        let queries = name("dnswatch_queries_total", "DNS queries of finished polls (origin-ASN lookups included), by result: answered or failed.")
        answered = registry.makeCounter(descriptor: queries, labels: [("result", "answered")])
        failed = registry.makeCounter(descriptor: queries, labels: [("result", "failed")])
        duration = registry.makeValueHistogram(
            descriptor: name("dnswatch_poll_duration_seconds", "Duration of finished polls, from start to finish (whole seconds)."),
            buckets: ScrapedMetrics.durationBuckets)
        outbox = registry.makeGauge(descriptor: name("dnswatch_outbox_pending", "Alert deliveries not yet made (all sinks)."))
        watched = registry.makeGauge(descriptor: name("dnswatch_watched_domains", "Domains on at least one list."))
        lastPoll = registry.makeGauge(
            descriptor: name("dnswatch_last_poll_timestamp_seconds", "When the last finished poll finished (epoch seconds)."))
        let raised = name("dnswatch_alerts_total", "Alerts raised, by type and severity.")
        var alerts: [AlertType: [Severity: Counter]] = [:]
        for t in AlertType.allCases {
            for s in Severity.allCases {
                alerts[t, default: [:]][s] = registry.makeCounter(descriptor: raised, labels: [("type", t.rawValue), ("severity", s.rawValue)])
            }
        }
        self.alerts = alerts
    }

    /// Brings the registry up to the database and writes it out. An alert of a type or severity this
    /// version does not know fails the scrape (as `dnswatch alerts` fails), counting nothing of it.
    func scrape() async throws -> [UInt8] {
        let (afterPoll, afterAlert) = counted.withLock { ($0.poll, $0.alert) }
        let reading = try await store.metricsReading(afterPoll: afterPoll, afterAlert: afterAlert)
        let tallies = try reading.alerts.map { (known: try KnownAlert(id: $0.lastID, type: $0.type, severity: $0.severity, rank: $0.severityRank), tally: $0) }
        counted.withLock { c in
            // Two scrapes at once: each poll is added once, by id; alert tallies only by the scrape that read
            // from where the counting stands (the other's new alerts are counted at the next scrape).
            for p in reading.polls where p.id > c.poll {
                polls.increment()
                answered.increment(by: Int64(p.answers))
                failed.increment(by: Int64(p.failures))
                duration.record(Double(p.finished) - Double(p.started))  // no Int64 overflow whatever is stored
                c.poll = p.id
                c.lastFinished = max(c.lastFinished ?? p.finished, p.finished)
            }
            if c.alert == afterAlert, let last = tallies.map(\.tally.lastID).max() {
                for (known, tally) in tallies { alerts[known.type]?[known.severity]?.increment(by: Int64(tally.count)) }
                c.alert = last
            }
            if let t = c.lastFinished { lastPoll.set(to: Double(t)) }
        }
        outbox.set(to: Double(reading.outboxPending))
        watched.set(to: Double(reading.watchedDomains))
        var out: [UInt8] = []
        registry.emit(into: &out)
        return out
    }
}
