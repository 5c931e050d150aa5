/// One answered lookup: the sorted, de-duplicated rdata in presentation format.
/// Name-valued rdata (NS, CNAME targets) is stored lower case without the trailing dot.
public struct Answer: Sendable, Hashable, Codable {
    public var status: AnswerStatus
    public var rdata: [String]
    /// CNAME chain met on the way to the answer (targets in order), empty when none.
    public var cnameChain: [String]

    public init(status: AnswerStatus, rdata: [String] = [], cnameChain: [String] = []) {
        self.status = status
        // Sorted and without duplicates; one value (the common case) needs no work.
        if rdata.count < 2 {
            self.rdata = rdata
        } else {
            var sorted = rdata.sorted()
            var last = 0
            for i in 1..<sorted.count where sorted[i] != sorted[last] {
                last += 1
                sorted[last] = sorted[i]
            }
            self.rdata = Array(sorted[...last])
        }
        self.cnameChain = cnameChain
    }
}

/// The outcome of one question: an answer, or a failure that must not change any state.
public enum Outcome: Sendable, Hashable {
    case answer(Answer)
    case failure(FailureKind)

    public var answer: Answer? {
        if case .answer(let a) = self { return a }
        return nil
    }
}

/// A question as the poller asks it.
public struct Question: Sendable, Hashable {
    public var name: String
    public var type: RRType
    public init(name: String, type: RRType) {
        self.name = name
        self.type = type
    }
}

/// What the resolver hands back for a question.
public struct Resolution: Sendable {
    public var question: Question
    public var outcome: Outcome
    /// Which resolver gave the final outcome ("127.0.0.1:53"), nil when none answered.
    public var server: String?
    /// How many transmissions it took (1 = first try).
    public var attempts: Int

    public init(question: Question, outcome: Outcome, server: String?, attempts: Int) {
        self.question = question
        self.outcome = outcome
        self.server = server
        self.attempts = attempts
    }
}
