import Config
import NetworkTypes
import Testing
@testable import CloudRoutes

/// An instance's `ec2_route_failover` as the route worker's settings, and its retry
/// pauses: what can be known without an EC2 endpoint.
@Suite struct RouteFailoverSettingsTests {
    static func block(_ body: String) throws -> EC2RouteFailover {
        let report = ConfigurationLoader.load(
            text: "vrrp_instance A {\n interface e\n virtual_router_id 1\n virtual_ipaddress {\n 192.168.20.11\n }\n"
                + " ec2_route_failover {\n\(body)\n }\n}\n", file: "e.conf")
        return try #require(report.configuration.instances.first?.ec2RouteFailover)
    }

    static let vips = [IPv4Address(192, 168, 20, 11), IPv4Address(192, 168, 20, 12)]
    static let mac: [UInt8] = [0x02, 0xAB, 0x00, 0x0c, 0xFF, 0x01]

    @Test func theDefaultsPointAtThisInstanceThroughTheLinkLocalIMDS() throws {
        let settings = RouteFailoverSettings(try Self.block(" route_table rtb-1 rtb-2"), virtualAddresses: Self.vips, interfaceMAC: Self.mac)
        #expect(settings.tables == ["rtb-1", "rtb-2"])
        #expect(settings.destinations == ["192.168.20.11/32", "192.168.20.12/32"])
        #expect(settings.target == .instance && settings.instanceID == nil)
        #expect(settings.region == nil && settings.endpoint == nil)
        #expect(settings.imdsEndpoint == "http://169.254.169.254")
        #expect(settings.refresh == 30 && settings.apiTimeout == 3)
        // IMDS names an interface by its MAC in lowercase, colon-separated.
        #expect(settings.mac == "02:ab:00:0c:ff:01")
    }

    @Test func whatTheBlockSetsIsKept() throws {
        let ec2 = try Self.block("""
             route_table rtb-9
             target eni
             instance_id i-0abc
             region eu-west-1
             endpoint http://10.0.0.1:4566
             imds_endpoint http://10.0.0.2:1338
             refresh 2
             api_timeout 0.5
            """)
        let settings = RouteFailoverSettings(ec2, virtualAddresses: [Self.vips[0]], interfaceMAC: Self.mac)
        #expect(settings.tables == ["rtb-9"] && settings.destinations == ["192.168.20.11/32"])
        #expect(settings.target == .eni && settings.instanceID == "i-0abc")
        #expect(settings.region == "eu-west-1" && settings.endpoint == "http://10.0.0.1:4566")
        #expect(settings.imdsEndpoint == "http://10.0.0.2:1338")
        #expect(settings.refresh == 2 && settings.apiTimeout == 0.5)
    }

    /// A reload keeps the running worker exactly when the settings compare equal: another
    /// VIP or another interface is another worker.
    @Test func settingsDifferWhenTheVIPsOrTheInterfaceDo() throws {
        let ec2 = try Self.block(" route_table rtb-1")
        let one = RouteFailoverSettings(ec2, virtualAddresses: Self.vips, interfaceMAC: Self.mac)
        #expect(one == RouteFailoverSettings(ec2, virtualAddresses: Self.vips, interfaceMAC: Self.mac))
        #expect(one != RouteFailoverSettings(ec2, virtualAddresses: [Self.vips[0]], interfaceMAC: Self.mac))
        #expect(one != RouteFailoverSettings(ec2, virtualAddresses: Self.vips, interfaceMAC: [0x02, 0, 0, 0, 0, 1]))
    }

    /// 0.5 s doubling, capped by `refresh` (never under 1 s) and by 30 s.
    @Test(arguments: [
        (1, 30.0, 0.5), (2, 30, 1), (3, 30, 2), (6, 30, 16), (7, 30, 30), (40, 30, 30),
        (3, 1.5, 1.5), (1, 0.2, 0.5), (5, 0.2, 1), (5, 120, 8), (12, 120, 30), (0, 30, 0.5),
    ])
    func failuresBackOffUntilRefresh(failures: Int, refresh: Double, pause: Double) {
        #expect(RouteFailover.backoff(failures: failures, refresh: refresh) == pause)
    }
}
