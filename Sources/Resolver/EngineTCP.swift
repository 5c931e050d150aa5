import DNSWatchModel

extension Engine {
    /// Asks every truncated question again over TCP, starting with the server that truncated it.
    mutating func runTCP() throws {
        for q in tcpQueue {
            var tries = 0
            var server = states[q].server
            var lastFailure = FailureKind.timeout
            var lastServer: Int?
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
                states[q].wire[0] = UInt8(id >> 8)
                states[q].wire[1] = UInt8(id & 0xFF)
                do {
                    let bytes = try TCPExchange.exchange(
                        states[q].wire, with: addresses[server], timeoutNanos: timeoutNanos, cancel: cancel)
                    let reply = try ParsedReply(wire: bytes)
                    guard reply.id == id, reply.asks(name: states[q].name, type: states[q].type) else {
                        stats.droppedWrongQuestion += 1
                        lastFailure = .malformed
                        lastServer = server
                        server = (server + 1) % endpoints.count
                        continue
                    }
                    switch ReplyInterpreter.verdict(reply, name: states[q].name, type: states[q].type) {
                    case .answer(let answer):
                        finish(q, .answer(answer), server: server)
                    case .truncated:
                        let answer = ReplyInterpreter.answer(reply, name: states[q].name, type: states[q].type)
                        finish(q, .answer(answer), server: server)
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
