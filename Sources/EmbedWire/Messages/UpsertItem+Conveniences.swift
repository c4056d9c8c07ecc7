// Hand-written conveniences of the generated `UpsertItem` (Messages.generated.swift).

extension UpsertItem {
    /// An item embedding `text` with the collection's model.
    public static func text(_ key: String, _ text: String, metadata: String = "") -> UpsertItem {
        UpsertItem(key: key, value: .input(.text(text)), metadata: metadata)
    }

    /// An item with a ready vector.
    public static func vector(_ key: String, _ values: [Float], metadata: String = "") -> UpsertItem {
        UpsertItem(key: key, value: .vector(Vector(values: values)), metadata: metadata)
    }
}
