// Hand-written conveniences of the generated `SearchQuery` (Messages.generated.swift).

extension SearchQuery {
    /// Creates a query; nil leaves `oneof query` unset (the server rejects such a query).
    public init(_ query: Query?) { self.init(query: query) }

    /// A query by text, embedded with the collection's model.
    public static func text(_ s: String) -> SearchQuery { SearchQuery(.input(.text(s))) }

    /// A query by vector.
    public static func vector(_ values: [Float]) -> SearchQuery { SearchQuery(.vector(Vector(values: values))) }
}
