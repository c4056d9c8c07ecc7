import Testing

@Test func placeholder_EmbedNNTests() { #expect(Bool(true)) }
