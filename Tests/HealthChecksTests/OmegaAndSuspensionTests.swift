import Config
import Testing
@testable import HealthChecks

/// omega's shutdown notifiers and ha_suspend's resting checkers, as pure decisions:
/// what runs at stop for which servers, which addresses a virtual server waits for, and
/// how the table rests a server's checkers and wakes them with its state kept.
@Suite struct OmegaAndSuspensionTests {
    static func config(_ text: String) throws -> OvercastConfiguration {
        let report = ConfigurationLoader.load(text: text)
        try #require(report.isValid, "\(report.diagnostics)")
        return report.configuration
    }

    @Test func omegaRunsTheUpServersNotifyDownThenQuorumDown() throws {
        let config = try Self.config("""
            virtual_server 10.0.0.1 80 {
              omega
              quorum_down /bin/qdown-web
              real_server 10.0.1.1 80 {
                notify_down /bin/down-one
              }
              real_server 10.0.1.2 80 {
                notify_down /bin/down-two
              }
              real_server 10.0.1.3 80 {
              }
              real_server 10.0.1.1 80 {
                notify_down /bin/down-again
              }
            }
            virtual_server 10.0.0.2 80 {
              quorum_down /bin/qdown-other
              real_server 10.0.1.1 80 {
                notify_down /bin/down-other
              }
            }
            virtual_server 10.0.0.3 80 {
              omega
              real_server 10.0.1.4 80 {
                notify_down /bin/down-four
              }
            }
            """)
        let down: Set<String> = ["10.0.1.2"]
        let scripts = OmegaShutdown.scripts(config) { !down.contains($0.address) }
        #expect(scripts.map(\.command) == ["/bin/down-one", "/bin/qdown-web", "/bin/down-four"], "\(scripts)")
        #expect(scripts.map(\.what) == ["notify_down", "quorum_down", "notify_down"])
        #expect(scripts.map(\.subject) == ["TCP 10.0.0.1:80 10.0.1.1:80", "TCP 10.0.0.1:80", "TCP 10.0.0.3:80 10.0.1.4:80"])
        // Every server down: quorum_down still runs at stop, as keepalived's does.
        #expect(OmegaShutdown.scripts(config) { _ in false }.map(\.what) == ["quorum_down"])
    }

    @Test func haSuspendWaitsForTheVirtualServersAddresses() throws {
        let config = try Self.config("""
            virtual_server_group web {
              10.0.0.10-12 80
              2001:db8::5 80
            }
            virtual_server 10.0.0.1 80 {
              ha_suspend
              real_server 10.0.1.1 80 {
              }
            }
            virtual_server group web {
              ha_suspend
              real_server 10.0.1.1 80 {
              }
            }
            virtual_server 10.0.0.2 80 {
              real_server 10.0.1.1 80 {
              }
            }
            """)
        let vs = config.virtualServers
        #expect(HASuspension.addresses(of: vs[0], in: config) == [[10, 0, 0, 1]])
        #expect(HASuspension.addresses(of: vs[1], in: config)
                == [[10, 0, 0, 10], [10, 0, 0, 11], [10, 0, 0, 12], try #require(AddressLiteral.octets("2001:db8::5"))])
        #expect(HASuspension.addresses(of: vs[2], in: config) == nil)
        let plan = HealthPlan(config)
        #expect(plan.watchesLocalAddresses)
        #expect(plan.servers.map { HASuspension.suspends($0, local: [[10, 0, 0, 11]]) } == [true, false, false])
        #expect(plan.servers.map { HASuspension.suspends($0, local: [[10, 0, 0, 1]]) } == [false, true, false])
    }

    @Test func aFwmarkVirtualServerCannotSuspend() {
        let report = ConfigurationLoader.load(text: """
            virtual_server fwmark 5 {
              ha_suspend
              real_server 10.0.1.1 80 {
              }
            }
            """)
        #expect(report.diagnostics.map(\.message) == ["ha_suspend cannot be used with fwmarks (a mark has no address to wait for): ignored"])
        #expect(report.configuration.virtualServers.first?.haSuspend == false)
    }

    @Test func aSuspendedServersCheckersRestAndWakeWithTheirState() throws {
        let vip: [UInt8] = [10, 0, 0, 1]
        let resting = HealthPlan.Server(id: .init(virtualServer: 0, address: "10.0.1.1", port: 80), label: "TCP 10.0.0.1:80",
                                        haSuspendAddresses: [vip])
        let always = HealthPlan.Server(id: .init(virtualServer: 1, address: "10.0.1.2", port: 80), label: "TCP 10.0.0.2:80")
        var table = CheckerTableTests.table(HealthPlan(servers: [resting, always], checkers: [
            CheckerTableTests.checker("a", server: 0), CheckerTableTests.checker("b", server: 1),
        ]))
        #expect(table.setLocalAddresses([]) == [.init(server: resting, suspended: true)])
        #expect(table.setLocalAddresses([[192, 0, 2, 1]]).isEmpty, "told again: no change")
        #expect(table.isSuspended(resting.id) && !table.isSuspended(always.id))
        // Only the other server's checker starts; the resting one looks again a delay_loop later.
        #expect(table.startDue(at: 100, limit: 64).map(\.run.key) == ["b"])
        #expect(table.startDue(at: 110, limit: 64).isEmpty)
        #expect(table.isAlive(resting.id), "a resting server keeps its state (up)")
        // The address arrives: the checker runs at its next look.
        #expect(table.setLocalAddresses([vip]) == [.init(server: resting, suspended: false)])
        #expect(table.startDue(at: 119, limit: 64).isEmpty)
        #expect(table.startDue(at: 120, limit: 64).map(\.run.key) == ["a"])
        // A reload starts with nothing resting; the caller tells the addresses kept here again.
        table.replace(with: HealthPlan(servers: [resting, always], checkers: [CheckerTableTests.checker("a", server: 0)]),
                      now: 130, warmupDraw: { 0 })
        #expect(table.localAddresses == [vip] && !table.isSuspended(resting.id))
        #expect(table.setLocalAddresses([]) == [.init(server: resting, suspended: true)])
    }
}
