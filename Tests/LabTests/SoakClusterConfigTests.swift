import Config
@testable import Lab
import Testing

/// The soak cluster's files: what each transport needs, the reload variants, and every
/// one of them a file Overcast reads without a warning.
@Suite struct SoakClusterConfigTests {
    static func config(_ transport: SoakRunner.Transport, version: Int = 3, hmac: Bool = false) -> SoakClusterConfig {
        SoakClusterConfig(transport: transport, version: version, hmac: hmac, nodes: 3, advertInterval: version == 2 ? 1 : 0.2,
                          keyPath: "/etc/overcast/soak.key", routes: ("rtb-0a1b2c3d", "http://172.31.255.200:8080/", "http://172.31.255.200:8081"))
    }

    @Test(arguments: SoakRunner.Transport.allCases)
    func everyVariantIsAFileOvercastReadsCleanly(_ transport: SoakRunner.Transport) {
        for version in [2, 3] {
            for hmac in [false, true] {
                let c = Self.config(transport, version: version, hmac: hmac)
                for (shift, drop) in [(false, false), (true, false), (false, true)] {
                    let text = c.text(node: 1, priorityShift: shift, dropPeer: drop)
                    let report = ConfigurationLoader.load(text: text, verifyAuthKeyFiles: false)
                    #expect(report.diagnostics.isEmpty, "\(transport) v\(version) hmac \(hmac): \(report.diagnostics)\n\(text)")
                }
            }
        }
    }

    @Test func eachTransportSaysWhereItsAdvertisementsGo() {
        let unicast = Self.config(.unicast).text(node: 0)
        #expect(unicast.contains("unicast_src_ip 172.31.18.10") && unicast.contains("172.31.18.11") && unicast.contains("172.31.18.12"))
        #expect(!unicast.contains("transport") && !unicast.contains("overlay"))
        let replicate = Self.config(.replicate).text(node: 0)
        #expect(replicate.contains("transport replicate") && replicate.contains("replicate_mode l3") && replicate.contains("unicast_peer"))
        let gre = Self.config(.gre).text(node: 2)
        #expect(gre.contains("overlay ovc0") && gre.contains("local 172.31.18.12") && gre.contains("interface ovc0"))
        #expect(!gre.contains("unicast_peer") && !gre.contains("unicast_src_ip"))
        #expect(Self.config(.unicast, version: 2).text(node: 0).contains("auth_type PASS"))
        let hmac = Self.config(.unicast, version: 2, hmac: true).text(node: 0)
        #expect(hmac.contains("auth_type HMAC_SHA256") && !hmac.contains("PASS"))
    }

    @Test func theReloadVariantsMoveThePriorityAndDropAPeer() {
        let c = Self.config(.gre)
        #expect(c.text(node: 0, priorityShift: true).contains("priority 110"))
        #expect(c.text(node: 2, priorityShift: true).contains("priority 140"), "the last node moves up")
        let dropped = c.text(node: 0, dropPeer: true)
        #expect(!dropped.contains("172.31.18.11") && dropped.contains("172.31.18.12"))
        #expect(SoakClusterConfig.lowestPriority(nodes: 3) == 60)
    }
}
