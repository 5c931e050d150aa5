import DNSWatchModel

extension Engine {
    /// Asks every truncated question again over TCP, starting with the server that truncated it.
    mutating func runTCP() throws {
        for q in tcpQueue {
            var tries = 0
            var server = states[q].server
            var lastFailure = FailureKind.timeout
            var lastServer: Int?
            var wire = queryWire(q)
            let nameCount = Int(states[q].nameCount)
            let question = Array(wire[12..<(12 + nameCount + 4)])
            let type = states[q].type
            while states[q].phase != .done {
                if cancel.isCancelled { throw CancellationError() }
                guard tries < maxAttempts else {
                    finish(q, .failure(lastFailure), server: lastServer)
                    break
                }
                tries += 1
                states[q].attempts += 1
                stats.sent += 1
                stats.retries += 1
                let id = ids.nextID()
                wire[0] = UInt8(id >> 8)
                wire[1] = UInt8(id & 0xFF)
                do {
                    let bytes = try TCPExchange.exchange(wire, with: addresses[server], timeoutNanos: timeoutNanos, cancel: cancel)
                    let reply = try ParsedReply(wire: bytes)
                    guard reply.id == id, reply.asks(question: question) else {
                        stats.droppedWrongQuestion += 1
                        lastFailure = .malformed
                        lastServer = server
                        server = (server + 1) % endpoints.count
                        continue
                    }
                    let verdict = try reply.bytes.withUnsafeBytes { b in
                        try question.withUnsafeBytes { qb in
                            let name = UnsafeRawBufferPointer(rebasing: qb[0..<nameCount])
                            var verdict = try ReplyInterpreter.verdict(b, reply.layout, name: name, type: type, records: records)
                            if verdict == .truncated {
                                // Truncated over TCP too: what came is the answer.
                                verdict = .answer(try ReplyInterpreter.answer(b, reply.layout, name: name, type: type, records: records))
                            }
                            return verdict
                        }
                    }
                    switch verdict {
                    case .answer(let answer):
                        finish(q, .answer(answer), server: server)
                    case .truncated:
                        break  // not reached: turned into an answer above
                    case .retry(let kind):
                        lastFailure = kind
                        lastServer = server
                        server = (server + 1) % endpoints.count
                    }
                } catch let error as TCPExchange.Failure {
                    if case .cancelled = error { throw CancellationError() }
                    if case .timeout = error { stats.timeouts += 1 }
                    lastFailure = error.kind
                    lastServer = nil
                    server = (server + 1) % endpoints.count
                } catch {
                    stats.malformedReplies += 1
                    lastFailure = .malformed
                    lastServer = server
                    server = (server + 1) % endpoints.count
                }
            }
        }
    }
}
