import Config
import Testing
@testable import HealthChecks

/// `alpha` at its three levels, as keepalived resolves it (check_data.c): the checker's
/// own, else its real server's, else its virtual server's; a server whose checker has
/// alpha starts down.
@Suite struct AlphaLevelsTests {
    @Test func theNearestAlphaWins() throws {
        let plan = try HealthPlanTests.plan("""
            virtual_server 10.0.0.1 80 {
              alpha
              real_server 10.0.1.1 80 {
                TCP_CHECK {
                }
                TCP_CHECK {
                  alpha no
                }
              }
              real_server 10.0.1.2 80 {
                alpha off
                TCP_CHECK {
                }
                PING_CHECK {
                  alpha
                }
              }
            }
            virtual_server 10.0.0.2 80 {
              real_server 10.0.1.3 80 {
                alpha
                MISC_CHECK {
                  misc_path /bin/true
                }
              }
            }
            """)
        #expect(plan.checkers.map(\.settings.alpha) == [true, false, false, true, true])
        #expect(plan.checkers.map { CheckerPolicy(settings: $0.settings).isUp } == [false, true, true, false, false])
    }
}
