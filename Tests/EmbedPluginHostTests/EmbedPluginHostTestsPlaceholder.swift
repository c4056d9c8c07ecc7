import Testing

@Test func placeholder_EmbedPluginHostTests() { #expect(Bool(true)) }
