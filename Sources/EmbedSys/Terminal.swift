@preconcurrency import Glibc

/// Questions about terminals, for tools that draw progress only when a person watches.
public enum Terminal {
    /// Whether `fd` refers to a terminal (`isatty(3)`).
    public static func isTerminal(_ fd: FileDescriptor) -> Bool { Glibc.isatty(fd.rawValue) == 1 }

    /// The width in columns of the terminal on `fd` (`ioctl(TIOCGWINSZ)`), or nil when `fd` is
    /// not a terminal or reports zero columns.
    public static func columns(_ fd: FileDescriptor) -> Int? {
        var size = winsize()
        // TIOCGWINSZ is a variadic ioctl that Swift cannot call directly with a typed pointer
        // through the macro; its value is 0x5413 on every Linux architecture we build for.
        guard Glibc.ioctl(fd.rawValue, UInt(0x5413), &size) == 0, size.ws_col > 0 else { return nil }
        return Int(size.ws_col)
    }
}
