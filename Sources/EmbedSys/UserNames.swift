@preconcurrency import Glibc

/// Name ↔ id lookups for command-line tools that accept users and groups by name
/// (`getpwnam_r`, `getgrgid_r`).
public enum UserNames {
    /// The uid of user `name`, or nil if there is no such user.
    public static func userID(named name: String) -> UInt32? {
        var pw = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 16384)
        let rc = getpwnam_r(name, &pw, &buffer, buffer.count, &result)
        guard rc == 0, result != nil else { return nil }
        return pw.pw_uid
    }

    /// The name of group `gid`, or nil.
    public static func groupName(id gid: UInt32) -> String? {
        var group = Glibc.group()
        var result: UnsafeMutablePointer<Glibc.group>?
        var buffer = [CChar](repeating: 0, count: 16384)
        let rc = getgrgid_r(gid, &group, &buffer, buffer.count, &result)
        guard rc == 0, result != nil, let name = group.gr_name else { return nil }
        return String(cString: name)
    }
}
