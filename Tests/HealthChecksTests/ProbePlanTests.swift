@testable import Config
import Testing
@testable import HealthChecks

/// The new checkers in the plan: what each run asks and keepalived's defaults.
@Suite struct ProbePlanTests {
    @Test func eachProbeCheckerBecomesOneTargetOnTheEnginesSockets() throws {
        let plan = try HealthPlanTests.plan("""
            virtual_server 10.0.0.1 53 {
              delay_loop 4
              protocol UDP
              real_server 10.0.1.1 53 {
                PING_CHECK {
                  connect_timeout 2
                }
                UDP_CHECK {
                  payload 0102
                  require_reply 0xx2
                  max_reply_length 16
                }
                DNS_CHECK {
                  type A
                  name www.example.test
                }
                SMTP_CHECK {
                  connect_ip fd00::25
                  connect_port 25
                }
              }
            }
            """)
        try #require(plan.checkers.count == 4)
        let targets = plan.checkers.flatMap(\.targets)
        #expect(targets.map(\.url) == ["icmp://10.0.1.1", "udp://10.0.1.1:53", "dns://10.0.1.1:53", "smtp://[fd00::25]:25"])
        #expect(targets.map(\.kind) == [
            .ping,
            .udp(UDPProbe(payload: [1, 2], requireReply: true, replyData: [0x00, 0x02], replyMask: [0x0F, 0xF0], maxReplyLength: 16)),
            .dns(type: 1, name: "www.example.test"),
            .smtp(helo: "smtpchecker.keepalived.org"),
        ])
        #expect(targets[0].connectTimeout == 2)
        // Every one is run on the engine's own sockets.
        #expect(targets.allSatisfy { $0.plain != nil })
        #expect(targets.map { $0.plain?.transport } == [.icmp, .datagram, .datagram, .stream])
        #expect(targets[0].plain?.name == "10.0.1.1" && targets[3].plain?.name == "[fd00::25]:25")
        // keepalived's DNS_CHECK defaults: three retries, delay_before_retry = delay_loop.
        #expect(plan.checkers[2].settings.retry == 3 && plan.checkers[2].settings.delayBeforeRetry == .seconds(4))
        #expect(plan.checkers[0].settings.retry == 1 && plan.checkers[0].settings.delayBeforeRetry == .seconds(1))
    }

    @Test func aDNSCheckDefaultsToTheRootsSOA() throws {
        let plan = try HealthPlanTests.plan("virtual_server 10.0.0.1 53 {\n real_server 10.0.1.1 53 {\n DNS_CHECK {\n }\n }\n}")
        #expect(plan.checkers.first?.targets.first?.kind == .dns(type: 6, name: "."))
    }

    @Test func aCheckThatNeedsAPortHasNoEndpointWithoutOne() {
        #expect(PlainEndpoint(url: "udp://10.0.0.1", virtualHost: nil, kind: .udp(UDPProbe())) == nil)
        #expect(PlainEndpoint(url: "smtp://10.0.0.1:0", virtualHost: nil, kind: .smtp(helo: "h")) == nil)
        #expect(PlainEndpoint(url: "icmp://host.example", virtualHost: nil, kind: .ping) == nil)
        #expect(PlainEndpoint(url: "icmp://10.0.0.1/x", virtualHost: nil, kind: .ping) == nil)
        #expect(PlainEndpoint(url: "icmp://[::1]", virtualHost: nil, kind: .ping)?.ipv6 == true)
    }
}

extension ProbePlanTests {
    @Test func bindtoGoesWithEveryTarget() throws {
        let plan = try HealthPlanTests.plan("""
            virtual_server 10.0.0.1 80 {
              real_server 10.0.1.1 80 {
                TCP_CHECK {
                  bindto 10.0.0.9
                }
                HTTP_GET {
                  url {
                    path /
                  }
                  bindto 10.0.0.9
                }
                PING_CHECK {
                  bindto 10.0.0.9
                }
              }
            }
            """)
        let targets = plan.checkers.flatMap(\.targets)
        #expect(targets.map(\.bindTo) == ["10.0.0.9", "10.0.0.9", "10.0.0.9"])
        #expect(targets.map { $0.plain?.source } == Array(repeating: CheckSource(address: "10.0.0.9"), count: 3))
        // A source of the other family has no plain endpoint (the reader refuses it).
        #expect(PlainEndpoint(url: "tcp://10.0.0.1:80", virtualHost: nil, kind: .tcpConnect, bindTo: "fd00::1") == nil)
    }
}

extension ProbePlanTests {
    @Test func aURLsRegexIsCompiledOnceIntoItsTarget() throws {
        let plan = try HealthPlanTests.plan("""
            virtual_server 10.0.0.1 80 {
              real_server 10.0.1.1 80 {
                HTTP_GET {
                  url {
                    path /
                    regex "ok|ready"
                    regex_no_match
                    regex_options caseless
                  }
                }
              }
            }
            """)
        let kind = try #require(plan.checkers.first?.targets.first?.kind)
        guard case .http(_, _, let regex?) = kind else { Issue.record("no regex in \(kind)"); return }
        #expect(regex.pattern.pattern == "ok|ready" && regex.pattern.options == ["caseless"] && regex.noMatch)
        // A model the reader did not check: a pattern that does not compile never passes.
        var url = HTTPURL()
        url.regex = "ab[c"
        url.regexNoMatch = true
        #expect(HealthPlan.bodyRegex(of: url)?.judge(Array("anything".utf8)).succeeded == false)
    }
}
