import Config
import Testing
@testable import HealthChecks

/// keepalived's virtual_server / real_server / checker blocks as the checker's plan: what
/// each run asks, with which policy, under which key.
@Suite struct HealthPlanTests {
    static func plan(_ text: String) throws -> HealthPlan {
        let report = ConfigurationLoader.load(text: text)
        try #require(report.isValid, "\(report.diagnostics)")
        return HealthPlan(report.configuration)
    }

    static let web = """
        virtual_server 10.0.0.1 80 {
          delay_loop 6
          virtualhost pool.example
          real_server 10.0.1.1 80 {
            notify_up "/bin/up 10.0.1.1"
            notify_down /bin/down
            HTTP_GET {
              url {
                path /health
                status_code 200 204
                digest 9E107D9D372BB6826BD81D3542A419D6
              }
              url {
                path /ready
                virtualhost ready.example
              }
              connect_timeout 2
              retry 3
              delay_before_retry 0.5
            }
            TCP_CHECK {
              connect_ip 10.0.2.1
              connect_port 8080
              delay_loop 2
              warmup 0
            }
          }
          real_server fd00::7 443 {
            SSL_GET {
              url {
                path /
              }
            }
          }
        }
        """

    @Test func httpChecksAskEachURLOfTheRealServer() throws {
        let plan = try Self.plan(Self.web)
        #expect(plan.servers.map(\.label) == ["TCP 10.0.0.1:80", "TCP 10.0.0.1:80"])
        #expect(plan.servers.map(\.id) == [RealServerID(virtualServer: 0, address: "10.0.1.1", port: 80),
                                           RealServerID(virtualServer: 0, address: "fd00::7", port: 443)])
        try #require(plan.checkers.count == 3)
        let http = plan.checkers[0]
        #expect(http.server == 0 && http.script == nil)
        #expect(http.targets.map(\.url) == ["http://10.0.1.1:80/health", "http://10.0.1.1:80/ready"])
        #expect(http.targets.map(\.virtualHost) == ["pool.example", "ready.example"])
        #expect(http.targets.map(\.id) == [http.key + "#0", http.key + "#1"])
        #expect(http.targets.allSatisfy { $0.connectTimeout == 2 })
        #expect(http.targets[0].kind == .http(expectedStatus: [200, 204], digest: "9e107d9d372bb6826bd81d3542a419d6"))
        #expect(http.targets[1].kind == .http(expectedStatus: [], digest: nil))
        #expect(http.settings == CheckerPolicy.Settings(delayLoop: .seconds(6), retry: 3, delayBeforeRetry: .milliseconds(500),
                                                        warmup: .seconds(6)))
        #expect(http.notifyUp == "/bin/up 10.0.1.1")
        #expect(http.notifyDown == "/bin/down")
        #expect(http.key.hasPrefix("TCP 10.0.0.1:80|10.0.1.1:80|0|"))
    }

    @Test func tcpAndSSLChecksGoWhereTheyAreToldWithTheDefaults() throws {
        let plan = try Self.plan(Self.web)
        let tcp = plan.checkers[1]
        #expect(tcp.server == 0)
        #expect(tcp.targets == [CheckTarget(id: tcp.key + "#0", url: "tcp://10.0.2.1:8080", connectTimeout: 5, kind: .tcpConnect)])
        // The checker's own delay_loop; retry once a second later; warmup 0 is kept.
        #expect(tcp.settings == CheckerPolicy.Settings(delayLoop: .seconds(2), retry: 1, delayBeforeRetry: .seconds(1), warmup: .zero))
        #expect(tcp.key.hasPrefix("TCP 10.0.0.1:80|10.0.1.1:80|1|"))
        let ssl = plan.checkers[2]
        #expect(ssl.server == 1)
        // An IPv6 address is bracketed in the URL.
        #expect(ssl.targets.map(\.url) == ["https://[fd00::7]:443/"])
        #expect(ssl.notifyUp == nil && ssl.notifyDown == nil)
    }

    @Test func miscChecksRunTheirScriptWithTheVirtualServersDelayAsTimeout() throws {
        let plan = try Self.plan("""
            virtual_server fwmark 7 {
              delay_loop 4
              alpha
              real_server 10.0.1.1 80 {
                MISC_CHECK {
                  misc_path "/usr/local/bin/check web"
                  misc_dynamic
                }
                MISC_CHECK {
                  misc_path /bin/true
                  misc_timeout 1.5
                  user nobody nogroup
                }
              }
            }
            virtual_server group G {
              real_server 10.0.1.2 80 {
                TCP_CHECK {
                }
              }
            }
            virtual_server_group G {
              10.0.0.5 80
            }
            """)
        #expect(plan.servers.map(\.label) == ["fwmark 7", "group G"])
        try #require(plan.checkers.count == 3)
        #expect(plan.checkers[0].targets.isEmpty && plan.checkers[1].targets.isEmpty)
        #expect(plan.checkers[0].script?.timeout == 4 && plan.checkers[0].script?.dynamic == true)
        #expect(plan.checkers[0].script?.command == "/usr/local/bin/check web")
        // `user USER [GROUP]`: the script runs as them (the first one as script_user).
        #expect(plan.checkers[1].script == HealthPlan.Script(command: "/bin/true", timeout: 1.5, dynamic: false,
                                                             user: "nobody", group: "nogroup"))
        #expect(plan.checkers[0].script?.user == nil)
        // alpha: the servers start down until their first success.
        #expect(plan.checkers[0].settings.alpha && !plan.checkers[2].settings.alpha)
        // The group's default delay_loop (60 s) and warmup of one delay_loop.
        #expect(plan.checkers[2].settings.delayLoop == .seconds(60) && plan.checkers[2].settings.warmup == .seconds(60))
        #expect(plan.checkers[2].server == 1 && plan.checkers[2].targets.map(\.url) == ["tcp://10.0.1.2:80"])
    }

    /// retry, delay_before_retry, warmup, connect_timeout (and delay_loop) written at
    /// real_server or virtual_server level are the checkers' defaults, as keepalived: the
    /// checker's own value first, then its real server's, then its virtual server's.
    @Test func realAndVirtualServerLevelsGiveTheCheckersDefaults() throws {
        let plan = try Self.plan("""
            virtual_server 10.0.0.1 80 {
              delay_loop 9
              retry 4
              connect_timeout 7
              delay_before_retry 2
              real_server 10.0.1.1 80 {
                retry 6
                warmup 0
                delay_loop 3
                TCP_CHECK {
                }
                TCP_CHECK {
                  retry 1
                  connect_timeout 1.5
                }
              }
              real_server 10.0.1.2 80 {
                TCP_CHECK {
                }
              }
            }
            """)
        try #require(plan.checkers.count == 3)
        let (a, b, c) = (plan.checkers[0], plan.checkers[1], plan.checkers[2])
        #expect(a.settings.retry == 6 && a.settings.warmup == .zero && a.settings.delayLoop == .seconds(3))
        #expect(a.settings.delayBeforeRetry == .seconds(2) && a.targets.first?.connectTimeout == 7)
        #expect(b.settings.retry == 1 && b.targets.first?.connectTimeout == 1.5)
        #expect(c.settings.retry == 4 && c.settings.delayLoop == .seconds(9) && c.targets.first?.connectTimeout == 7)
        // Nothing written anywhere: keepalived's 5 s.
        let bare = try Self.plan("virtual_server 10.0.0.1 80 {\n real_server 10.0.1.1 80 {\n  TCP_CHECK {\n  }\n }\n}")
        #expect(bare.checkers.first?.targets.first?.connectTimeout == 5)
    }

    /// keepalived's (deprecated) SMTP_CHECK `host` blocks: each is a checker of its own,
    /// with the block's settings and the host's connection; the block's own connection is
    /// checked too only when it sets one.
    @Test func smtpHostBlocksAreCheckersOfTheirOwn() throws {
        let plan = try Self.plan("""
            virtual_server 10.0.0.1 25 {
              real_server 10.0.1.1 25 {
                SMTP_CHECK {
                  helo_name lb.example
                  retry 2
                  host {
                    connect_ip 10.0.1.7
                    connect_port 2525
                  }
                  host {
                    connect_timeout 3
                  }
                }
              }
              real_server 10.0.1.2 25 {
                SMTP_CHECK {
                  connect_ip 10.0.1.9
                  host {
                    connect_ip 10.0.1.8
                  }
                }
              }
            }
            """)
        #expect(plan.checkers.map { $0.targets.map(\.url) } == [["smtp://10.0.1.7:2525"], ["smtp://10.0.1.1:25"],
                                                                ["smtp://10.0.1.9:25"], ["smtp://10.0.1.8:25"]])
        #expect(plan.checkers.prefix(2).allSatisfy { $0.settings.retry == 2 && $0.targets.first?.kind == .smtp(helo: "lb.example") })
        #expect(plan.checkers[1].targets.first?.connectTimeout == 3 && plan.checkers[0].targets.first?.connectTimeout == 5)
        #expect(Set(plan.checkers.map(\.key)).count == 4)
    }

    /// The same real server written twice in a virtual server is one server (both blocks'
    /// checkers decide whether it is up); the same address in another virtual server is
    /// another server. The same text gives the same plan, keys included: what a reload
    /// that changed nothing relies on.
    @Test func aRealServerWrittenTwiceIsOneServer() throws {
        let real = "real_server 10.0.1.1 80 {\n TCP_CHECK {\n connect_timeout 3\n }\n}\n"
        let text = "virtual_server 10.0.0.1 80 {\n\(real)\(real)}\nvirtual_server 10.0.0.2 80 {\n\(real)}\n"
        let plan = try Self.plan(text)
        #expect(plan.servers.map(\.id.virtualServer) == [0, 1])
        // The two blocks' checkers differ in their source line: two checkers of one server.
        #expect(plan.checkers.map(\.server) == [0, 0, 1])
        #expect(Set(plan.checkers.map(\.key)).count == plan.checkers.count)
        #expect(try Self.plan(text) == plan)
    }

    /// Durations from a model built without the parser are bounded, not trapped on.
    @Test func outOfRangeSecondsAreBounded() {
        #expect(HealthPlan.milliseconds(.nan) == .zero)
        #expect(HealthPlan.milliseconds(-3) == .zero)
        #expect(HealthPlan.milliseconds(.infinity) == .seconds(1_000_000_000))
        #expect(HealthPlan.milliseconds(1.2345) == .milliseconds(1234))
    }
}
