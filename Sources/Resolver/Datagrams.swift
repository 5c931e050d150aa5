#if canImport(Glibc)
import Glibc
#endif
import CLDNS

/// Message vectors for `recvmmsg` / `sendmmsg`: one header, iovec and address slot per datagram, and for
/// receiving a 64 KiB buffer per slot so that no datagram is ever cut (only the pages a datagram touches
/// become resident). Allocated once per engine; use one instance for receiving and another for sending.
final class DatagramVectors {
    static let slotSize = 65536
    let capacity: Int
    private let headers: UnsafeMutablePointer<dnswatch_mmsghdr>
    private let iovecs: UnsafeMutablePointer<iovec>
    private let names: UnsafeMutablePointer<sockaddr_storage>
    private let buffers: UnsafeMutableRawPointer
    private var filled = 0

    init(capacity: Int, receiving: Bool) {
        self.capacity = capacity
        headers = .allocate(capacity: capacity)
        headers.initialize(repeating: dnswatch_mmsghdr(), count: capacity)
        iovecs = .allocate(capacity: capacity)
        iovecs.initialize(repeating: iovec(), count: capacity)
        names = .allocate(capacity: capacity)
        names.initialize(repeating: sockaddr_storage(), count: capacity)
        buffers = .allocate(byteCount: receiving ? capacity * Self.slotSize : 1, alignment: 16)
        if receiving {
            for i in 0..<capacity {
                iovecs[i] = iovec(iov_base: buffers + i * Self.slotSize, iov_len: Self.slotSize)
                headers[i].msg_hdr = msghdr(
                    msg_name: UnsafeMutableRawPointer(names + i), msg_namelen: socklen_t(MemoryLayout<sockaddr_storage>.size),
                    msg_iov: iovecs + i, msg_iovlen: 1, msg_control: nil, msg_controllen: 0, msg_flags: 0)
            }
        }
    }

    deinit {
        headers.deallocate()
        iovecs.deallocate()
        names.deallocate()
        buffers.deallocate()
    }

    // MARK: receiving

    /// Receives up to `capacity` queued datagrams from `fd` without blocking: their count, or -1 (errno).
    func receive(fd: Int32) -> Int {
        // The kernel rewrites the address length of the slots it filled.
        for i in 0..<filled {
            headers[i].msg_hdr.msg_namelen = socklen_t(MemoryLayout<sockaddr_storage>.size)
        }
        let n = Int(dnswatch_recvmmsg(fd, headers, UInt32(capacity), Int32(MSG_DONTWAIT)))
        filled = max(0, n)
        return n
    }

    /// The bytes of received datagram `i`.
    func datagram(_ i: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: buffers + i * Self.slotSize, count: Int(headers[i].msg_len))
    }

    /// The source address of received datagram `i`.
    func source(_ i: Int) -> UnsafeRawPointer {
        UnsafeRawPointer(names + i)
    }

    // MARK: sending

    /// Sets slot `i` to send `count` bytes at `bytes` to `address`; both must stay valid until `send`.
    func setMessage(_ i: Int, bytes: UnsafeRawPointer, count: Int, to address: UnsafePointer<sockaddr_storage>, length: socklen_t) {
        iovecs[i] = iovec(iov_base: UnsafeMutableRawPointer(mutating: bytes), iov_len: count)
        headers[i].msg_hdr = msghdr(
            msg_name: UnsafeMutableRawPointer(mutating: address), msg_namelen: length,
            msg_iov: iovecs + i, msg_iovlen: 1, msg_control: nil, msg_controllen: 0, msg_flags: 0)
        headers[i].msg_len = 0
    }

    /// Sends the first `count` slots on `fd`: how many went out, or -1 (errno, for the first one).
    func send(fd: Int32, count: Int) -> Int {
        Int(dnswatch_sendmmsg(fd, headers, UInt32(count), 0))
    }
}

/// Socket addresses at stable addresses (what `sendmmsg` headers point to), freed with the owner.
final class Destinations {
    let pointer: UnsafeMutablePointer<sockaddr_storage>
    private let count: Int

    init(_ addresses: [SocketAddress]) {
        count = max(1, addresses.count)
        pointer = .allocate(capacity: count)
        pointer.initialize(repeating: sockaddr_storage(), count: count)
        for (i, address) in addresses.enumerated() { pointer[i] = address.storage }
    }

    deinit { pointer.deallocate() }
}
