import Testing

@Test func placeholder_TextPluginTests() { #expect(Bool(true)) }
