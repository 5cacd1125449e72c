#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import OvercastDaemon

/// The checker raises the process's soft open-files limit toward the hard one, and never
/// lowers it. The test moves the soft limit by a few descriptors only (other tests share
/// the process) and puts it back.
@Suite(.serialized) struct OpenFileLimitTests {
    static func setSoft(_ soft: UInt64, hard: UInt64) -> Bool {
        var limit = rlimit(rlim_cur: rlim_t(soft), rlim_max: rlim_t(hard))
        return setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0
    }

    @Test func theSoftLimitIsRaisedToWhatTheChecksNeedAndNoFurther() throws {
        let (soft, hard) = try #require(OpenFileLimit.current())
        try #require(soft > 64)
        defer { _ = Self.setSoft(soft, hard: hard) }
        #expect(Self.setSoft(soft - 8, hard: hard))
        #expect(OpenFileLimit.raise(toAtLeast: soft - 4) == OpenFileLimit.Change(before: soft - 8, after: soft - 4, hard: hard))
        #expect(OpenFileLimit.current()?.soft == soft - 4)
        // Enough already: left as it is, never lowered.
        #expect(OpenFileLimit.raise(toAtLeast: soft - 6) == nil)
        #expect(OpenFileLimit.current()?.soft == soft - 4)
        // More than the hard limit allows: the hard limit, and the caller can tell.
        if hard < UInt64.max {   // RLIM_INFINITY
            #expect(OpenFileLimit.raise(toAtLeast: hard + 1) == OpenFileLimit.Change(before: soft - 4, after: hard, hard: hard))
        }
    }

    @Test func eachCheckTargetGetsADescriptorBeyondTheDaemonsOwn() {
        #expect(OpenFileLimit.needed(checkTargets: 0) == 1024)
        #expect(OpenFileLimit.needed(checkTargets: 3000) == 4024)
    }
}
