@preconcurrency import Glibc

/// Looks up users and groups (`getgrnam_r`, `getpwuid_r`, `getgrouplist`), for socket
/// ownership and admin checks.
public enum UserDatabase {
    /// The gid of group `name`, or nil if there is no such group.
    public static func groupID(named name: String) -> UInt32? {
        var group = Glibc.group()
        var result: UnsafeMutablePointer<Glibc.group>?
        var buffer = [CChar](repeating: 0, count: 16384)
        let rc = getgrnam_r(name, &group, &buffer, buffer.count, &result)
        guard rc == 0, result != nil else { return nil }
        return group.gr_gid
    }

    /// The name and primary gid of user `uid`, or nil.
    public static func user(id uid: UInt32) -> (name: String, gid: UInt32)? {
        var pw = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 16384)
        let rc = getpwuid_r(uid, &pw, &buffer, buffer.count, &result)
        guard rc == 0, result != nil, let name = pw.pw_name else { return nil }
        return (String(cString: name), pw.pw_gid)
    }

    /// Whether the user `uid` (whose current gid is `gid`) belongs to group `groupID`: as its
    /// current or primary group, or as a supplementary member (`getgrouplist`).
    public static func isMember(uid: UInt32, gid: UInt32, of groupID: UInt32) -> Bool {
        if gid == groupID { return true }
        guard let user = user(id: uid) else { return false }
        if user.gid == groupID { return true }
        var count: Int32 = 64
        var groups = [gid_t](repeating: 0, count: Int(count))
        if getgrouplist(user.name, user.gid, &groups, &count) < 0 {
            groups = [gid_t](repeating: 0, count: Int(count))
            guard getgrouplist(user.name, user.gid, &groups, &count) >= 0 else { return false }
        }
        return groups.prefix(Int(count)).contains(groupID)
    }

    /// Changes a file's group (`chown(path, -1, gid)`).
    public static func changeGroup(path: String, to gid: UInt32) throws(Errno) {
        _ = try checkingErrno { chown(path, uid_t.max, gid) }
    }

    /// Changes a file's permission bits (`chmod`).
    public static func changeMode(path: String, to mode: UInt32) throws(Errno) {
        _ = try checkingErrno { chmod(path, mode_t(mode)) }
    }
}
