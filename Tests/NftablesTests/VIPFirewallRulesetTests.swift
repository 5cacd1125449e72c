import NetworkTypes
import Nftables
import Testing

@Suite struct VIPFirewallRulesetTests {
    @Test func installReplacesResidueWithKeepalivedsTable() {
        let text = VIPFirewallRuleset(table: "keepalived").installCommands
        #expect(text == """
            add table ip keepalived
            delete table ip keepalived
            add table ip keepalived
            add chain ip keepalived in { type filter hook input priority -1; policy accept; }
            add chain ip keepalived out { type filter hook output priority -1; policy accept; }
            add set ip keepalived vips { type ipv4_addr; }
            add rule ip keepalived in ip daddr @vips drop
            add rule ip keepalived out ip saddr @vips drop

            """)
    }

    @Test func tablePriorityAndCountersAreTheConfigurations() {
        let text = VIPFirewallRuleset(table: "vrrp_fw", priority: 5, counters: true).installCommands
        #expect(text.contains("add chain ip vrrp_fw in { type filter hook input priority 5; policy accept; }"))
        #expect(text.contains("add rule ip vrrp_fw in ip daddr @vips counter drop"))
        #expect(text.contains("add rule ip vrrp_fw out ip saddr @vips counter drop"))
        #expect(!text.contains("keepalived"))
    }

    @Test func elementsAreAddedAndDeletedOnceEach() throws {
        let ruleset = VIPFirewallRuleset(table: "keepalived")
        let a = try #require(IPv4Address("10.0.0.100")), b = try #require(IPv4Address("10.0.0.101"))
        #expect(ruleset.addCommands([a, b, a]) == "add element ip keepalived vips { 10.0.0.100, 10.0.0.101 }\n")
        #expect(ruleset.deleteCommands([b]) == "delete element ip keepalived vips { 10.0.0.101 }\n")
        #expect(ruleset.addCommands([]) == "")
    }

    @Test func removeDeletesTheTableWhetherOrNotItIsThere() {
        #expect(VIPFirewallRuleset(table: "t").removeCommands == "add table ip t\ndelete table ip t\n")
    }

    @Test func listingsElementsAreRead() {
        let listing = """
            table ip keepalived {
            \tset vips {
            \t\ttype ipv4_addr
            \t\telements = { 10.0.0.100, 10.0.0.101,
            \t\t\t     10.0.0.102 }
            \t}
            }
            """
        #expect(VIPFirewallRuleset.elements(inListing: listing).map(\.description) == ["10.0.0.100", "10.0.0.101", "10.0.0.102"])
        #expect(VIPFirewallRuleset.elements(inListing: "table ip keepalived {\n\tset vips {\n\t\ttype ipv4_addr\n\t}\n}").isEmpty)
    }
}
