import Testing

@Test func placeholder_EmbedSysTests() { #expect(Bool(true)) }
