public import DNSWatchModel
public import Poller
import Synchronization

/// A resolver whose answers the test sets, in process: per name and type an outcome. A question not set is
/// answered as DNS would (a type not set NODATA, a name not set at all NXDOMAIN), or, given `otherwise`,
/// gets that outcome (a timeout: a poll that writes only what the script holds). Records which questions
/// it was asked.
public final class ScriptedDNS: QueryEngine {
    private let zone = Mutex<[String: [RRType: Outcome]]>([:])
    private let asked = Mutex<[Question]>([])
    private let otherwise: Outcome?

    public init(otherwise: Outcome? = nil) {
        self.otherwise = otherwise
    }

    public var resolverDescription: String { "scripted" }

    public func answers(for questions: [Question]) async throws -> [Resolution] {
        asked.withLock { $0 += questions }
        return zone.withLock { zone in
            questions.map { q in
                if let outcome = zone[q.name]?[q.type] {
                    return Resolution(question: q, outcome: outcome, server: "scripted", attempts: 1)
                }
                if let otherwise {
                    // Nobody answered: no server, as a timeout on the wire.
                    return Resolution(question: q, outcome: otherwise, server: nil, attempts: 1)
                }
                let status: AnswerStatus = zone[q.name] == nil ? .nxdomain : .nodata
                return Resolution(question: q, outcome: .answer(Answer(status: status)), server: "scripted", attempts: 1)
            }
        }
    }

    /// `name` answers `type` with these values in this order (NODATA when none).
    public func set(_ name: String, _ type: RRType, _ rdata: [String], chain: [String] = []) {
        set(Question(name: name, type: type), Answer(status: rdata.isEmpty ? .nodata : .noerror, rdata: rdata, cnameChain: chain))
    }

    /// `question` gets this answer, whatever its status.
    public func set(_ question: Question, _ answer: Answer) {
        zone.withLock { $0[question.name, default: [:]][question.type] = .answer(answer) }
    }

    /// A question of `name` and `type` fails.
    public func fail(_ name: String, _ type: RRType, _ kind: FailureKind = .timeout) {
        zone.withLock { $0[name, default: [:]][type] = .failure(kind) }
    }

    /// `name` does not exist (every question NXDOMAIN).
    public func remove(_ name: String) {
        _ = zone.withLock { $0.removeValue(forKey: name) }
    }

    /// Forgets the questions asked so far.
    public func forgetAsked() {
        asked.withLock { $0 = [] }
    }

    /// The names asked about, in order, each once.
    public var askedNames: [String] {
        asked.withLock { questions in
            var seen = Set<String>()
            return questions.map(\.name).filter { seen.insert($0).inserted }
        }
    }
}
