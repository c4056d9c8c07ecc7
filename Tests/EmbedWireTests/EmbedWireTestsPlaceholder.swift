import Testing

@Test func placeholder_EmbedWireTests() { #expect(Bool(true)) }
