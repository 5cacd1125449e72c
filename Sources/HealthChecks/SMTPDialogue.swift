/// SMTP_CHECK's conversation as a pure state machine (keepalived's check_smtp.c): read the
/// 220 greeting, send `HELO name`, expect 250, send `QUIT`, and take any reply to it as
/// the end. The socket code feeds it what arrives and sends what it returns.
///
/// Replies may span lines (RFC 5321 4.2.1: `250-first`, `250 last`); keepalived reads only
/// the first line, which fails a server whose greeting is multi-line. Here a reply ends
/// at its last line, and every line of it must carry the same code.
public struct SMTPDialogue: Sendable {
    public enum Outcome: Equatable, Sendable {
        case needMore
        case send([UInt8])
        case finished(CheckResult)
    }

    enum Step: Equatable { case greeting, helo, quit }

    public static let defaultHelo = "smtpchecker.keepalived.org"
    /// RFC 5321's bound on a reply line, CRLF included.
    static let lineLimit = 512
    /// A bound on one reply's lines, so a server that never ends a reply is stopped.
    static let lineCountLimit = 100

    let helo: String
    private(set) var step = Step.greeting
    private var line: [UInt8] = []
    private var replyCode: Int?
    private var lines = 0

    public init(helo: String) { self.helo = helo }

    /// Takes bytes from the server.
    public mutating func consume<Bytes: Sequence>(_ bytes: Bytes) -> Outcome where Bytes.Element == UInt8 {
        var outcome = Outcome.needMore
        for byte in bytes {
            guard case .needMore = outcome else {
                // The server sent ahead of our command: keep it for the next reply.
                line.append(byte)
                continue
            }
            if byte == 0x0A {
                outcome = completeLine()
            } else {
                line.append(byte)
                if line.count >= Self.lineLimit {
                    return .finished(.failure("SMTP \(stepName) reply line longer than \(Self.lineLimit) octets"))
                }
            }
        }
        if case .send = outcome, !line.isEmpty {
            // What came after the reply, read now that the command is sent, through the same
            // checks as bytes that come later (a long partial line fails here too).
            let early = line
            line = []
            return Self.merge(outcome, consume(early))
        }
        return outcome
    }

    /// The server closed the connection.
    public func end() -> Outcome {
        .finished(.failure("the SMTP server closed the connection before its \(stepName) reply\(line.isEmpty ? "" : " ended")"))
    }

    private var stepName: String {
        switch step {
        case .greeting: "greeting"
        case .helo: "HELO"
        case .quit: "QUIT"
        }
    }

    /// A command and what follows it: both commands are sent, unless what came next finished.
    private static func merge(_ first: Outcome, _ next: Outcome) -> Outcome {
        if case .send(let a) = first, case .send(let b) = next { return .send(a + b) }
        if case .finished = next { return next }
        return first
    }

    private mutating func completeLine() -> Outcome {
        var text = line
        line = []
        if text.last == 0x0D { text.removeLast() }
        let shown = String(decoding: text.prefix(60), as: UTF8.self).filter { !$0.isNewline }
        guard text.count >= 3, text[0...2].allSatisfy({ (0x30...0x39).contains($0) }),
              text.count == 3 || text[3] == 0x20 || text[3] == 0x2D else {
            return .finished(.failure("SMTP \(stepName) reply line is not 'NNN text': '\(shown)'"))
        }
        let code = text[0...2].reduce(0) { $0 * 10 + Int($1 - 0x30) }
        if let replyCode, replyCode != code {
            return .finished(.failure("SMTP \(stepName) reply changes its code from \(replyCode) to \(code) mid-reply"))
        }
        lines += 1
        guard text.count == 3 || text[3] == 0x20 else {
            replyCode = code
            return lines >= Self.lineCountLimit
                ? .finished(.failure("SMTP \(stepName) reply of over \(Self.lineCountLimit) lines")) : .needMore
        }
        replyCode = nil
        lines = 0
        switch step {
        case .greeting:
            guard code == 220 else { return .finished(.failure("SMTP greeting \(code), expected 220: '\(shown)'")) }
            step = .helo
            return .send(Array("HELO \(helo)\r\n".utf8))
        case .helo:
            guard code == 250 else { return .finished(.failure("SMTP HELO reply \(code), expected 250: '\(shown)'")) }
            step = .quit
            return .send(Array("QUIT\r\n".utf8))
        case .quit:
            return .finished(.success)
        }
    }
}
