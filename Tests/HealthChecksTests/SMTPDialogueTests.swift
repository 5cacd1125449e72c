import Testing
@testable import HealthChecks

/// SMTP_CHECK's conversation: greeting, HELO, QUIT, with multi-line replies, replies split
/// anywhere, and bad servers failing with what they said.
@Suite struct SMTPDialogueTests {
    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test func aWellBehavedServerPasses() {
        var d = SMTPDialogue(helo: "checker.example")
        #expect(d.consume(Self.bytes("220 mail.example ESMTP\r\n")) == .send(Self.bytes("HELO checker.example\r\n")))
        #expect(d.consume(Self.bytes("250 mail.example\r\n")) == .send(Self.bytes("QUIT\r\n")))
        #expect(d.consume(Self.bytes("221 bye\r\n")) == .finished(.success))
    }

    @Test func multiLineRepliesEndAtTheirLastLineAndMaySplitAnywhere() {
        var d = SMTPDialogue(helo: SMTPDialogue.defaultHelo)
        let greeting = Self.bytes("220-mail.example ESMTP\r\n220-no spam\r\n220 ready\r\n")
        for byte in greeting.dropLast() { #expect(d.consume([byte]) == .needMore) }
        #expect(d.consume([greeting[greeting.count - 1]]) == .send(Self.bytes("HELO smtpchecker.keepalived.org\r\n")))
        #expect(d.consume(Self.bytes("250-mail.example\n250 OK\n")) == .send(Self.bytes("QUIT\r\n")))   // bare LF too
        #expect(d.consume(Self.bytes("221")) == .needMore)
        #expect(d.consume(Self.bytes("\r\n")) == .finished(.success))
    }

    @Test func repliesSentAheadAreReadAfterTheCommand() {
        var d = SMTPDialogue(helo: "h")
        #expect(d.consume(Self.bytes("220 hi\r\n250 pipelined\r\n221 x\r\n")) == .finished(.success))
        var e = SMTPDialogue(helo: "h")
        #expect(e.consume(Self.bytes("220 hi\r\n250 ok\r\n")) == .send(Self.bytes("HELO h\r\nQUIT\r\n")))
    }

    @Test func badServersFailWithWhatTheySaid() {
        var banner = SMTPDialogue(helo: "h")
        #expect(banner.consume(Self.bytes("554 go away\r\n")) == .finished(.failure("SMTP greeting 554, expected 220: '554 go away'")))
        var garbage = SMTPDialogue(helo: "h")
        #expect(garbage.consume(Self.bytes("HTTP/1.1 400 Bad Request\r\n"))
                == .finished(.failure("SMTP greeting reply line is not 'NNN text': 'HTTP/1.1 400 Bad Request'")))
        var helo = SMTPDialogue(helo: "h")
        _ = helo.consume(Self.bytes("220 hi\r\n"))
        #expect(helo.consume(Self.bytes("501 syntax\r\n")) == .finished(.failure("SMTP HELO reply 501, expected 250: '501 syntax'")))
        var mixed = SMTPDialogue(helo: "h")
        #expect(mixed.consume(Self.bytes("220-a\r\n250 b\r\n")) == .finished(.failure("SMTP greeting reply changes its code from 220 to 250 mid-reply")))
        var long = SMTPDialogue(helo: "h")
        #expect(long.consume([UInt8](repeating: 0x32, count: 600)) == .finished(.failure("SMTP greeting reply line longer than 512 octets")))
        var endless = SMTPDialogue(helo: "h")
        let many = Array(repeating: Self.bytes("220-more\r\n"), count: 100).flatMap { $0 }
        #expect(endless.consume(many) == .finished(.failure("SMTP greeting reply of over 100 lines")))
        let closed = SMTPDialogue(helo: "h")
        #expect(closed.end() == .finished(.failure("the SMTP server closed the connection before its greeting reply")))
    }
}
