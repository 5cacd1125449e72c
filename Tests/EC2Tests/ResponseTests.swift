import Testing
@testable import EC2

/// Reading EC2's XML: the real shapes (moto's and AWS's documented examples), errors,
/// and documents that are wrong in every way a proxy or a bug can make them.
@Suite struct ResponseTests {
    /// AWS's documented DescribeRouteTables example, with a namespace, whitespace and an
    /// ENI route (real AWS reports both instanceId and networkInterfaceId for instance routes).
    static let awsDescribe = """
    <?xml version="1.0" encoding="UTF-8"?>
    <DescribeRouteTablesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
       <requestId>6f570b0b-9c18-4b07-bdec-73740dcf861a</requestId>
       <routeTableSet>
          <item>
             <routeTableId>rtb-1122334455667788a</routeTableId>
             <vpcId>vpc-1122334455667788a</vpcId>
             <routeSet>
                <item>
                   <destinationCidrBlock>172.31.0.0/16</destinationCidrBlock>
                   <gatewayId>local</gatewayId>
                   <state>active</state>
                </item>
                <item>
                   <destinationCidrBlock>192.168.20.11/32</destinationCidrBlock>
                   <instanceId>i-0123456789abcdef0</instanceId>
                   <instanceOwnerId>123456789012</instanceOwnerId>
                   <networkInterfaceId>eni-0123456789abcdef0</networkInterfaceId>
                   <state>active</state>
                </item>
             </routeSet>
             <associationSet/>
          </item>
       </routeTableSet>
    </DescribeRouteTablesResponse>
    """

    @Test func readsRouteTablesAsAWSDocumentsThem() throws {
        let tables = try EC2Response.routeTables(try XMLTree.parse(Array(Self.awsDescribe.utf8)))
        #expect(tables.map(\.id) == ["rtb-1122334455667788a"])
        let vip = try #require(tables[0].route(to: "192.168.20.11/32"))
        #expect(vip.instanceID == "i-0123456789abcdef0")
        #expect(vip.networkInterfaceID == "eni-0123456789abcdef0")
        #expect(vip.points(at: .instance("i-0123456789abcdef0")))
        #expect(vip.points(at: .networkInterface("eni-0123456789abcdef0")))
        #expect(!vip.points(at: .instance("i-other")))
        #expect(tables[0].route(to: "172.31.0.0/16")?.targetDescription == "local")
        #expect(tables[0].route(to: "10.0.0.0/8") == nil)
    }

    @Test func readsErrorDocumentsWithTheirCodeAsIs() throws {
        let body = """
        <?xml version="1.0" encoding="UTF-8"?>
        <Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message></Error></Errors>
        <RequestID>ab12</RequestID></Response>
        """
        let failure = try #require(EC2Response.serviceError(status: 503, body: Array(body.utf8)))
        #expect(failure.label == "RequestLimitExceeded")
        #expect(failure.description == "RequestLimitExceeded: Request limit exceeded. (HTTP 503, request ab12)")
        #expect(failure.isRetryable)
        #expect(EC2Response.serviceError(status: 503, body: Array("<html>busy</html>".utf8)) == nil)
        #expect(EC2Response.serviceError(status: 500, body: []) == nil)
    }

    @Test func malformedDocumentsSayWhereTheyBroke() {
        let truncated = "<?xml version=\"1.0\"?>\n<ReplaceRouteResponse>\n<return>tru"
        do {
            _ = try XMLTree.parse(Array(truncated.utf8))
            Issue.record("a truncated document parsed")
        } catch {
            #expect(error.line >= 2, "\(error)")
            #expect(error.description.hasPrefix("malformed XML at line"))
        }
        #expect(throws: XMLTreeError.self) { try XMLTree.parse([]) }
        #expect(throws: XMLTreeError.self) { try XMLTree.parse(Array("<a><b></a>".utf8)) }
        #expect(throws: XMLTreeError.self) { try XMLTree.parse([0xFF, 0xFE, 0x00, 0x3C]) }
    }

    /// The parse ends at the first error and says where that was. Foundation lets libxml2
    /// recover and read on; each later error of a garbled answer leaked memory (found by
    /// fuzzing, `Fuzz/regressions/ec2/garbled-answer-many-errors.xml`), and the error
    /// thrown named where the parser gave up, not the first fault.
    @Test func theFirstErrorEndsTheParse() {
        let garbled = "<?xml version=\"1.0\"?>\n<DescribeRouteTablesResponse>\n<a></b>\n<c></d>\n<e></f>\n</DescribeRouteTablesResponse>\n"
        do {
            _ = try XMLTree.parse(Array(garbled.utf8))
            Issue.record("a garbled document parsed")
        } catch {
            #expect(error.line == 3, "\(error)")
        }
    }

    /// Found by fuzzing: Foundation's parser trapped on a name that is not UTF-8. Such
    /// bytes are refused before parsing, with where they are.
    @Test func bytesThatAreNotUTF8AreRefusedWithTheirPlace() {
        let document: [UInt8] = Array("<a>\n<destinat".utf8) + [0xFF] + Array("ionCidr>x</destinationCidr></a>".utf8)
        do {
            _ = try XMLTree.parse(document)
            Issue.record("a document with byte 0xff parsed")
        } catch {
            #expect(error.line == 2 && error.column == 10, "\(error)")
            #expect(error.description.contains("0xff"))
        }
        // Also found by fuzzing: a processing instruction without data crashed the
        // parser; EC2 sends none (only the declaration) and no DTD.
        for text in ["<?IS?>\n<a/>", "<?xml version=\"1.0\"?><a><?pi x?></a>",
                     "<!DOCTYPE a [<!ENTITY b \"c\">]><a>&b;</a>"] {
            #expect(throws: XMLTreeError.self, "\(text)") { try XMLTree.parse(Array(text.utf8)) }
        }
        #expect((try? XMLTree.parse(Array("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<a>x<!-- c --></a>".utf8)))?.text == "x")
        #expect(XMLTree.firstInvalidUTF8(Array("zoë ✓ 𝄞".utf8)) == nil)
        #expect(XMLTree.firstInvalidUTF8([0x61, 0xC3]) == 1)
        #expect(XMLTree.firstInvalidUTF8([0x61, 0xED, 0xA0, 0x80]) == 1)   // a UTF-16 surrogate
    }

    @Test func refusesDocumentsNestedTooDeep() {
        let deep = String(repeating: "<a>", count: 200) + String(repeating: "</a>", count: 200)
        #expect(throws: XMLTreeError.self) { try XMLTree.parse(Array(deep.utf8)) }
        let fine = String(repeating: "<a>", count: 20) + "x" + String(repeating: "</a>", count: 20)
        #expect((try? XMLTree.parse(Array(fine.utf8))) != nil)
    }

    @Test func decodesEntitiesAndStripsNamespacePrefixes() throws {
        let tree = try XMLTree.parse(Array("<e:R xmlns:e=\"urn:x\"><e:m>a &amp; b &lt;c&gt;</e:m></e:R>".utf8))
        #expect(tree.name == "R")
        #expect(tree.value("m") == "a & b <c>")
    }

    @Test func aWellFormedAnswerOfTheWrongShapeIsMalformedNotEmpty() throws {
        let other = try XMLTree.parse(Array("<CreateRouteResponse><return>true</return></CreateRouteResponse>".utf8))
        #expect(throws: EC2Failure.self) { try EC2Response.routeTables(other) }
        #expect(try EC2Response.returnValue(other, action: "CreateRoute"))
        let noReturn = try XMLTree.parse(Array("<ReplaceRouteResponse><requestId>1</requestId></ReplaceRouteResponse>".utf8))
        #expect(try EC2Response.returnValue(noReturn, action: "ReplaceRoute"))
        #expect(throws: EC2Failure.self) { try EC2Response.returnValue(noReturn, action: "CreateRoute") }
        let empty = try XMLTree.parse(Array("<CreateRouteResponse><return/></CreateRouteResponse>".utf8))
        #expect(throws: EC2Failure.self) { try EC2Response.returnValue(empty, action: "CreateRoute") }
        let noID = try XMLTree.parse(Array("<D><routeTableSet><item><routeSet/></item></routeTableSet></D>".utf8))
        #expect(throws: EC2Failure.self) { try EC2Response.routeTables(noID) }
        let attribute = try XMLTree.parse(Array("<D><sourceDestCheck><value>false</value></sourceDestCheck></D>".utf8))
        #expect(try EC2Response.booleanAttribute(attribute, "sourceDestCheck") == false)
        #expect(throws: EC2Failure.self) { try EC2Response.booleanAttribute(attribute, "disableApiStop") }
    }
}
