import Foundation
import Testing
import TestSupport
@testable import Config

/// keepalived's parameter substitution, `~SEQ` and `~LST` (keepalived.conf(5),
/// "Parameter substitution", "Sequence blocks", "List blocks"), with its examples.
@Suite struct ParameterTests {
    func read(_ text: String, configID: String? = nil, budget: Int = 16 << 20) -> ([Statement], [Diagnostic]) {
        parsed(text, configID: configID, budget: budget)
    }

    @Test(arguments: [
        ("$P=240\npriority $P", "priority 240"),
        ("$P=240\npriority ${P}", "priority 240"),
        ("$W=a b c\nx $W", "x a b c"),
        ("$E=\nx $E y", "x y"),
        ("$IP=10.0.0.1 # comment\nx ${IP}/24", "x 10.0.0.1/24"),
        // Defined at use, not at definition: the manual's ADDRESS_BASE example.
        ("$ADDRESS_BASE=10.2.${ADDRESS_BASE_SUB}\n$ADDRESS_BASE_SUB=0\n${ADDRESS_BASE}.100/32\n$ADDRESS_BASE_SUB=10\n${ADDRESS_BASE}.100/32",
         "10.2.0.100/32; 10.2.10.100/32"),
        ("$X=1\nx $Xy ${X}y", "x $Xy 1y"),
        ("x $UNDEFINED $1 $ \"${UNDEFINED}\"", "x $UNDEFINED $1 $ ${UNDEFINED}"),
        ("$B=vrrp_instance V {\n$B state MASTER }", "vrrp_instance V {state MASTER}"),
        ("  $I=7\nx $I", "x 7"),
        ("$H=a${_HASH}b${_BANG}c\nx $H", "x a#b!c"),
    ])
    func substitutes(text: String, expected: String) {
        let (parsed, _) = read(text)
        #expect(shape(parsed) == expected)
    }

    @Test func conditionalDefinitionsFollowTheConfigID() {
        let text = "@main $PRIORITY=240\n@backup $PRIORITY=200\nvrrp_instance VI_0 {\n priority $PRIORITY\n}\n$IF_MAIN=@main\n$IF_MAIN other 1"
        #expect(shape(read(text, configID: "main").0) == "vrrp_instance VI_0 {priority 240}; other 1")
        #expect(shape(read(text, configID: "backup").0) == "vrrp_instance VI_0 {priority 200}")
    }

    /// The manual's multi-line definition: each line of the value is a line of its own.
    @Test func multiLineDefinitionsGiveBlocks() {
        let text = """
        $INSTANCE= \\
        vrrp_instance VI_${NUM} { \\
            interface eth0.${NUM} \\
            @high priority 130 \\
            @low priority 120 \\
            virtual_ipaddress { \\
                10.0.${NUM}.254/24 \\
            } \\
        }

        $NUM=0
        $INSTANCE

        $NUM=1
        $INSTANCE
        """
        #expect(shape(read(text, configID: "high").0) == "vrrp_instance VI_0 {interface eth0.0; priority 130; virtual_ipaddress {10.0.0.254/24}}; "
                + "vrrp_instance VI_1 {interface eth0.1; priority 130; virtual_ipaddress {10.0.1.254/24}}")
    }

    /// Definitions inside a multi-line value take effect as its lines are read.
    @Test func nestedMultiLineDefinitions() {
        let text = "$RS= \\\nreal_server 192.168.${VS}.${RS_NUM} 80 { \\\n weight 1 \\\n}\n\n"
            + "$VS_BLOCK= \\\nvirtual_server 10.0.${VS}.4 80 { \\\n $RS_NUM=1 \\\n $RS \\\n $RS_NUM=2 \\\n $RS \\\n}\n\n$VS=0\n$VS_BLOCK\n"
        #expect(shape(read(text).0) == "virtual_server 10.0.0.4 80 {real_server 192.168.0.1 80 {weight 1}; real_server 192.168.0.2 80 {weight 1}}")
    }

    @Test(arguments: [
        ("~SEQ(SUBNET, 0, 3) ip_address 10.0.${SUBNET}.1", "ip_address 10.0.0.1; ip_address 10.0.1.1; ip_address 10.0.2.1; ip_address 10.0.3.1"),
        ("~SEQ(I, 3) x $I", "x 1; x 2; x 3"),
        ("~SEQ(I, -2) x $I", "x -1; x -2"),
        ("~SEQ(I, 5, 3) x $I", "x 5; x 4; x 3"),
        ("~SEQ(I, 1, 2, 6) x $I", "x 1; x 3; x 5"),
        ("~SEQx(S, 0x90, 0x10, 0xc0) fe80::20:${S}:1", "fe80::20:90:1; fe80::20:a0:1; fe80::20:b0:1; fe80::20:c0:1"),
        ("$N=2\n~SEQ(I, 1, $N) x $I", "x 1; x 2"),
        ("~SEQ(A, 1, 2) ~SEQ(B, 1, 2) x ${A}.$B", "x 1.1; x 1.2; x 2.1; x 2.2"),
        ("~LST(IP, 1, 2, 3) x ${IP}", "x 1; x 2; x 3"),
        ("~LST({IP, IP1}, {10,1},{20,4}) 192.168.${IP}.${IP1}", "192.168.10.1; 192.168.20.4"),
        ("~LST({A, B}, {1}) x ${A}-${B}-", "x 1--"),
        ("~LST(IP, 1, 2) ~SEQ(J, 7, 8) x ${IP}.$J", "x 1.7; x 1.8; x 2.7; x 2.8"),
        ("$L=~SEQ(I, 1, 2) x $I\n$L", "x 1; x 2"),
    ])
    func repeats(text: String, expected: String) {
        let (parsed, diagnostics) = read(text)
        #expect(shape(parsed) == expected)
        #expect(diagnostics.isEmpty, "\(diagnostics)")
    }

    @Test(arguments: [
        ("~SEQ(I, 1, 0, 3) x", "t.conf:1:1: error: ~SEQ step 0 never goes from 1 to 3"),
        ("~SEQ(I, 1, -1, 3) x", "t.conf:1:1: error: ~SEQ step -1 never goes from 1 to 3"),
        ("~SEQ(I, 1, 3 x", "t.conf:1:1: error: ~SEQ is missing its closing ')'"),
        ("~SEQ I, 1, 3) x", "t.conf:1:1: error: ~SEQ needs '(' after it"),
        ("~SEQ(I, a, 3) x", "t.conf:1:1: error: ~SEQ takes one to three integers (START, STEP, END), got 'a,3'"),
        ("~SEQx(I, -1, 3) x", "t.conf:1:1: error: ~SEQx is only for numbers that are not negative"),
        ("~LST(A) x", "t.conf:1:1: error: ~LST needs at least one value"),
        ("~LST({A}, {1, 2}) x", "t.conf:1:1: error: ~LST has more values in a set than the 1 variables"),
        ("  x ${NOPE}", "t.conf:1:5: warning: ${NOPE} is not defined; left as written"),
        ("x ${NOPE", "t.conf:1:3: warning: '${' is never closed with '}'; left as written"),
        ("$M= \\\na\n\nx $M y", "t.conf:4:3: warning: $M is a multi-line definition and is substituted only at the end of a line; left as written"),
    ])
    func badInputIsReportedWhereItIs(text: String, expected: String) {
        let (_, diagnostics) = read(text)
        #expect(diagnostics.map(\.description).contains(expected), "\(diagnostics)")
    }

    @Test func quotedShellVariablesAreLeftAloneWithoutWarnings() {
        let (parsed, diagnostics) = read("script \"/bin/sh -c 'echo ${HOME} $PATH'\"")
        #expect(parsed.first?.words.last?.text == "/bin/sh -c 'echo ${HOME} $PATH'")
        #expect(diagnostics.isEmpty)
    }

    /// Tokens point where their text was written; substituted ones also say through which use.
    @Test func locationsPointWhereTheTextWasWritten() throws {
        let (parsed, _) = read("$VIP=192.168.1.10/24\nvirtual_ipaddress {\n    $VIP dev eth0\n}")
        let words = try #require(parsed.first?.block?.first?.words)
        #expect(words.map(\.text) == ["192.168.1.10/24", "dev", "eth0"])
        #expect(words[0].location == SourceLocation(file: "t.conf", line: 1, column: 6, expansion: "$VIP at t.conf:3:5"))
        #expect(words[1].location == SourceLocation(file: "t.conf", line: 3, column: 10))
        let report = ConfigurationLoader.load(text: "$P=300\nvrrp_instance X {\n interface eth0\n virtual_router_id 1\n priority $P\n}", file: "t.conf")
        #expect(report.diagnostics.map(\.description).contains("t.conf:1:4: error: priority 300 is out of range 1-255 (through $P at t.conf:5:11)"),
                "\(report.diagnostics)")
    }

    @Test func recursiveDefinitionsStopAtTheDepthLimit() {
        for text in ["$A=$A\nx $A", "$A=x ${B}\n$B=${A}\ny $A", "$A=@id $A\n$A", "$L= \\\n$L\n\n$L"] {
            let (_, diagnostics) = read(text, configID: "id")
            #expect(diagnostics.contains { $0.severity == .error && $0.message.contains("more than 32 deep") }, "\(text): \(diagnostics)")
        }
    }

    @Test func exponentialDefinitionsStopAtTheLineLimit() {
        var text = "$A0=xxxxxxxx\n"
        for level in 1...30 { text += "$A\(level)=${A\(level - 1)} ${A\(level - 1)}\n" }
        text += "x $A30\n"
        let (_, diagnostics) = read(text)
        #expect(diagnostics.contains { $0.message.contains("makes the line longer than 16 KiB") }, "\(diagnostics)")
    }

    @Test func hugeSequencesStopAtTheBudget() {
        for text in ["~SEQ(I, 1, 100000000) x $I", "~SEQ(I, 1, 9223372036854775807) $D=1", "~SEQ(A,0,999) ~SEQ(B,0,999) ~SEQ(C,0,999) x"] {
            let (_, diagnostics) = read(text, budget: 128 << 10)
            #expect(diagnostics.contains { $0.message.contains("produce more than") }, "\(text): \(diagnostics)")
        }
        // Many lines of the file, each substituted up to the line limit, add up too.
        var text = "$A0=xxxxxxxxxxxxxxxx\n"
        for level in 1...9 { text += "$A\(level)=${A\(level - 1)} ${A\(level - 1)}\n" }
        text += String(repeating: "x $A9\n", count: 100)
        let (_, diagnostics) = read(text, budget: 128 << 10)
        #expect(diagnostics.contains { $0.message.contains("produce more than 128 KiB") }, "\(diagnostics.prefix(3))")
        // Counting to the largest integer stops without overflowing.
        let (parsed, _) = read("~SEQ(I, 9223372036854775806, 9223372036854775807) x $I")
        #expect(shape(parsed) == "x 9223372036854775806; x 9223372036854775807")
    }

    @Test func malformedReferencesNeverCrash() {
        for text in ["$", "${", "${}", "$=", "$A=", "$A=\\", "${_RANDOM 9 1}", "${_RANDOM a}", "${_ENV}", "~SEQ", "~SEQ(", "~SEQ()", "~LST({",
                     "~LST({A,B}", "~SEQx(I,1", "$A=$\n$A", "$A= \\", "@", "@x", "~", "${A B}", "$A=${\n$A}"] {
            _ = read(text)
            _ = read(text + "\n" + text)
        }
    }

    @Test func predefinedNames() {
        let (parsed, _) = read("a ${_INSTANCE} ${_RANDOM 5 5} ${_PWD}", configID: "node1")
        #expect(parsed.first?.words.map(\.text) == ["a", "node1", "5", FileManager.default.currentDirectoryPath])
    }

    /// Random lines made of the pieces substitution looks at: every diagnostic points at a
    /// line of the text, and the reader always returns.
    @Test func randomParameterTextNeverCrashes() {
        let pieces = ["$A", "${A}", "$B=", "$A=", "${", "}", "{", " ", " \\", "\n", "~SEQ(I, 1, 3)", "~SEQx(I,", "~LST({A,B},{1,2})",
                      "${I}", "@main ", "@^main ", "=", "\"", "#", "!", ",", ")", "$_HASH", "${_RANDOM 1 2}", "x", "include", "\t"]
        var random = SeededRandom(seed: 25)
        for _ in 0..<400 {
            var text = ""
            for _ in 0..<Int(random.next() % 60) { text += pieces[Int(random.next() % UInt64(pieces.count))] }
            let (_, diagnostics) = read(text, configID: "main", budget: 64 << 10)
            let lines = text.utf8.filter { $0 == UInt8(ascii: "\n") }.count + 1
            #expect(diagnostics.allSatisfy { $0.location.line >= 1 && $0.location.line <= lines && $0.location.column >= 1 }, "\(text)")
        }
    }

    /// strtol's numbers for ~SEQ, with one sign only: a second one is not a number (and
    /// the most negative hexadecimal with two signs once overflowed when negated).
    @Test func sequenceNumbersTakeOneSign() {
        #expect(Repetition.integer("-0x10") == -16 && Repetition.integer("010") == 8 && Repetition.integer("+7") == 7)
        #expect(Repetition.integer("-0x-8000000000000000") == nil && Repetition.integer("--5") == nil)
        #expect(Repetition.integer("0x+5") == nil && Repetition.integer("-") == nil)
        let (_, diagnostics) = read("~SEQ(I, -0x-8000000000000000)\nx $I")
        #expect(diagnostics.contains { $0.severity == .error }, "\(diagnostics)")
    }
}
