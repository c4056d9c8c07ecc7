/// The daemon's version, reported in HelloReply and Status.
public enum EmbeddVersion {
    public static let string = "0.1.0"
}
