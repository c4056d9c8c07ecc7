import Testing

@Test func placeholder_EmbedStoreTests() { #expect(Bool(true)) }
