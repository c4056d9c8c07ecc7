/// embedd's metric names and Milvus's `metricType`s.
///
/// cosine → COSINE (Milvus ≥ 2.3), l2 → L2 (Milvus reports the squared distance; the order is
/// the same), ip → IP. Every embedd metric has a Milvus one, so nothing is refused here; a
/// server older than 2.3 refuses COSINE itself and the create error says so.
public enum MilvusMetric {
    /// The Milvus `metricType` for embedd's `metric`, or nil for an unknown name.
    public static func milvusName(_ metric: String) -> String? {
        switch metric.lowercased() {
        case "cosine": return "COSINE"
        case "l2": return "L2"
        case "ip": return "IP"
        default: return nil
        }
    }
}
