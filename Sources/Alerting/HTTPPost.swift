import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// One HTTP exchange through `URLSession`, cancellable, with a hard deadline.
enum HTTPPost {
    enum Failure: Error {
        case timedOut
        case transport(URLError?, String)
    }

    /// Sends `request` and returns the status code and up to `bodyLimit` bytes of the response body.
    /// Throws `Failure.timedOut` after `timeout` whatever the session does, `CancellationError` when the
    /// task is cancelled, `Failure.transport` for other failures.
    static func send(
        _ request: URLRequest, session: URLSession, timeout: Duration
    ) async throws -> (status: Int, body: Data) {
        try await withThrowingTaskGroup(of: (status: Int, body: Data).self) { group in
            group.addTask { try await exchange(request, session: session) }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw Failure.timedOut
            }
            defer { group.cancelAll() }
            guard let first = try await group.next() else { throw CancellationError() }
            return first
        }
    }

    private static func exchange(_ request: URLRequest, session: URLSession) async throws -> (status: Int, body: Data) {
        let call = PendingCall()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                call.start(continuation) {
                    session.dataTask(with: request) { data, response, error in
                        call.finish(data: data, response: response, error: error)
                    }
                }
            }
        } onCancel: {
            call.cancel()
        }
    }
}

/// Resumes its continuation exactly once: with the response, or with `CancellationError` as soon as
/// the task is cancelled (without waiting for `URLSession` to report the cancellation).
private final class PendingCall: @unchecked Sendable {
    private let lock = NSLock()
    private var continuation: CheckedContinuation<(status: Int, body: Data), any Error>?
    private var task: URLSessionDataTask?
    private var cancelled = false

    func start(
        _ continuation: CheckedContinuation<(status: Int, body: Data), any Error>,
        makeTask: () -> URLSessionDataTask
    ) {
        lock.lock()
        if cancelled {
            lock.unlock()
            continuation.resume(throwing: CancellationError())
            return
        }
        let task = makeTask()
        self.continuation = continuation
        self.task = task
        lock.unlock()
        task.resume()
    }

    func cancel() {
        lock.lock()
        cancelled = true
        let continuation = self.continuation
        self.continuation = nil
        let task = self.task
        lock.unlock()
        task?.cancel()
        continuation?.resume(throwing: CancellationError())
    }

    func finish(data: Data?, response: URLResponse?, error: (any Error)?) {
        lock.lock()
        let continuation = self.continuation
        self.continuation = nil
        lock.unlock()
        guard let continuation else { return }
        if let error {
            if let urlError = error as? URLError, urlError.code == .timedOut {
                continuation.resume(throwing: HTTPPost.Failure.timedOut)
            } else {
                continuation.resume(throwing: HTTPPost.Failure.transport(error as? URLError, error.localizedDescription))
            }
        } else if let http = response as? HTTPURLResponse {
            continuation.resume(returning: (http.statusCode, data ?? Data()))
        } else {
            continuation.resume(throwing: HTTPPost.Failure.transport(nil, "the answer is not HTTP"))
        }
    }
}

/// Refuses redirects: a POST redirected by 301/302 would become a GET and "succeed" without delivering.
final class NoRedirects: NSObject, URLSessionTaskDelegate, Sendable {
    func urlSession(
        _ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
        newRequest request: URLRequest, completionHandler: @escaping @Sendable (URLRequest?) -> Void
    ) {
        completionHandler(nil)
    }
}
