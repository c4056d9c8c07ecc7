@testable import EmbedServer
import Testing

/// `text/*` bytes decoded by their charset (issue 25, item 1).
struct TextContentTests {
    @Test func textTypesAreRecognised() {
        #expect(TextContent.isText("text/plain"))
        #expect(TextContent.isText("Text/Markdown; charset=UTF-8"))
        #expect(!TextContent.isText("image/jpeg"))
        #expect(!TextContent.isText(""))
        #expect(!TextContent.isText("application/json"))
    }

    @Test func charsetsDecode() throws {
        #expect(try TextContent.decode(Array("héllo".utf8), mimeType: "text/plain", what: "x") == "héllo")
        #expect(try TextContent.decode([0xEF, 0xBB, 0xBF] + Array("bom".utf8), mimeType: "text/plain", what: "x") == "bom")
        #expect(try TextContent.decode([0x63, 0x61, 0x66, 0xE9], mimeType: "text/plain; charset=ISO-8859-1", what: "x") == "café")
        #expect(try TextContent.decode([0x63, 0x61, 0x66, 0xE9], mimeType: "text/plain;charset=\"latin1\"", what: "x") == "café")
        #expect(try TextContent.decode([0xFF, 0xFE, 0x68, 0x00, 0xE9, 0x00], mimeType: "text/plain; charset=utf-16", what: "x") == "hé")
        #expect(try TextContent.decode([0x00, 0x68, 0x00, 0xE9], mimeType: "text/plain; charset=utf-16be", what: "x") == "hé")
        #expect(try TextContent.decode([0x68, 0x00], mimeType: "text/plain; charset=UTF-16LE", what: "x") == "h")
        #expect(try TextContent.decode(Array("plain".utf8), mimeType: "text/plain; charset=us-ascii", what: "x") == "plain")
    }

    @Test func badBytesAndUnknownCharsetsAreNamed() {
        #expect(throws: RPCError(.invalidArgument, "input 2 is not valid UTF-8 text (text/plain)")) {
            try TextContent.decode([0x66, 0xC3], mimeType: "text/plain", what: "input 2")
        }
        #expect(throws: RPCError(.invalidArgument, "input 0: charset 'koi8-r' is not supported (use utf-8, us-ascii, iso-8859-1 or utf-16)")) {
            try TextContent.decode([0x66], mimeType: "text/plain; charset=KOI8-R", what: "input 0")
        }
        #expect(throws: RPCError(.invalidArgument, "input 0 has bytes over 0x7F but its media type says charset=us-ascii")) {
            try TextContent.decode([0xE9], mimeType: "text/plain; charset=us-ascii", what: "input 0")
        }
        #expect(throws: RPCError(.invalidArgument, "input 0: 3 bytes cannot be utf-16le text (odd length)")) {
            try TextContent.decode([1, 2, 3], mimeType: "text/plain; charset=utf-16le", what: "input 0")
        }
    }
}
