/// What the connections of one daemon may hold between them, kept by the event loop:
/// connections per uid (`limits.max_connections_per_uid`), and the bytes of large frames being
/// received (`limits.max_buffered_bytes`).
///
/// A frame up to `smallFrameBytes` is always read. A larger one reserves its whole size, as
/// its header declares it, before more of it is read: reserved frames can always complete, so
/// the budget never deadlocks with every connection holding part of a frame; a frame that finds
/// no room waits, unread, in the kernel's socket buffer (back-pressure). Memory is still taken
/// only as bytes arrive — the reservation is accounting, not an allocation — and a frame that
/// stalls is cut by `limits.frame_timeout`. One uid other than uid 0 and the admin group may
/// reserve at most half of the budget, so a single user cannot shut the others out of it.
///
/// Event-loop thread only.
struct ConnectionBudget {
    /// Frames up to this size (header included) need no reservation.
    static let smallFrameBytes = 64 << 10

    private(set) var reservedBytes = 0
    private var reservedByUID: [UInt32: Int] = [:]
    private var connectionsByUID: [UInt32: Int] = [:]

    /// Open connections of `uid`.
    func connections(of uid: UInt32) -> Int { connectionsByUID[uid, default: 0] }

    mutating func opened(by uid: UInt32) { connectionsByUID[uid, default: 0] += 1 }

    mutating func closed(by uid: UInt32) {
        let n = connectionsByUID[uid, default: 0] - 1
        connectionsByUID[uid] = n > 0 ? n : nil
    }

    /// Reserves `bytes` for a frame of `uid`; false when there is no room now. A frame always
    /// fits when nothing else is reserved (so a frame larger than the budget is not refused
    /// forever), and a uid's first frame always fits its share.
    mutating func reserve(_ bytes: Int, uid: UInt32, exempt: Bool, limit: Int) -> Bool {
        guard reservedBytes == 0 || reservedBytes + bytes <= limit else { return false }
        let mine = reservedByUID[uid, default: 0]
        guard exempt || mine == 0 || mine + bytes <= limit / 2 else { return false }
        reservedBytes += bytes
        reservedByUID[uid] = mine + bytes
        return true
    }

    mutating func release(_ bytes: Int, uid: UInt32) {
        guard bytes > 0 else { return }
        reservedBytes -= bytes
        let left = reservedByUID[uid, default: 0] - bytes
        reservedByUID[uid] = left > 0 ? left : nil
    }
}
