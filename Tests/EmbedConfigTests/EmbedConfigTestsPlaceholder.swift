import Testing

@Test func placeholder_EmbedConfigTests() { #expect(Bool(true)) }
