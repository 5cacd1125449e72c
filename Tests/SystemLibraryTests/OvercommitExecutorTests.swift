import Foundation
import Testing
import LinuxNet
@testable import OvercommitExecutor

/// The daemon's sleep (a dispatch timer on the overcommit queue, off Swift's default
/// executor): it waits at least as asked, is resumed exactly once, and a cancelled task
/// stops waiting at once. The hooks themselves are checked on the daemon
/// (IntegrationTests/IdleDaemonTests): installed here they would move the whole test run.
@Suite struct OvercommitExecutorTests {
    @Test func durationsBecomeClampedNanoseconds() {
        #expect(OvercommitExecutor.nanoseconds(.milliseconds(1500)) == 1_500_000_000)
        #expect(OvercommitExecutor.nanoseconds(.nanoseconds(1)) == 1)
        #expect(OvercommitExecutor.nanoseconds(.zero) == 0)
        #expect(OvercommitExecutor.nanoseconds(.seconds(-3)) == 0)
        #expect(OvercommitExecutor.nanoseconds(.nanoseconds(-1)) == 0)
        #expect(OvercommitExecutor.nanoseconds(.seconds(Int64.max)) == UInt64(Int64.max))
        #expect(OvercommitExecutor.nanoseconds(Duration(secondsComponent: 2, attosecondsComponent: 1_500_000_000)) == 2_000_000_001)
    }

    @Test func aSleepLastsAtLeastItsDuration() async throws {
        let clock = ContinuousClock()
        let started = clock.now
        try await OvercommitExecutor.sleep(for: .milliseconds(60))
        #expect(clock.now - started >= .milliseconds(60))
        // Zero and negative durations do not wait for a timer, and still resume.
        try await OvercommitExecutor.sleep(for: .zero)
        try await OvercommitExecutor.sleep(for: .seconds(-1))
    }

    @Test func concurrentSleepsEachResumeOnce() async throws {
        let finished = try await withThrowingTaskGroup(of: Int.self) { group in
            for i in 0..<200 {
                group.addTask {
                    try await OvercommitExecutor.sleep(for: .milliseconds(i % 20))
                    return i
                }
            }
            return try await group.reduce(into: Set<Int>()) { $0.insert($1) }
        }
        #expect(finished == Set(0..<200))
    }

    @Test(.timeLimit(.minutes(1)))
    func cancellationEndsALongSleepAtOnce() async throws {
        let sleeper = Task { try await OvercommitExecutor.sleep(for: .seconds(3600)) }
        let clock = ContinuousClock()
        let cancelled = clock.now
        sleeper.cancel()
        await #expect(throws: CancellationError.self) { try await sleeper.value }
        // "At once" against an hour: seconds would mean the cancellation went unheard.
        #expect(clock.now - cancelled < .seconds(10))
    }

    /// The resume-once rule without timers: cancellation while waiting wins over the timer
    /// that fires after it, and cancellation before the continuation exists resumes it as
    /// soon as it is handed over (a second resume would trap).
    @Test(.timeLimit(.minutes(1)))
    func aSleeperResumesOnceWhicheverEndComesFirst() async {
        let waiting = Sleeper()
        await #expect(throws: CancellationError.self) {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                #expect(waiting.begin(continuation))
                waiting.end(throwing: CancellationError())
                waiting.end(throwing: nil)
            }
        }
        let early = Sleeper()
        early.end(throwing: CancellationError())
        await #expect(throws: CancellationError.self) {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                #expect(!early.begin(continuation))
                early.end(throwing: nil)
            }
        }
        let fired = Sleeper()
        await #expect(throws: Never.self) {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                #expect(fired.begin(continuation))
                fired.end(throwing: nil)
                fired.end(throwing: CancellationError())
            }
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func aTaskCancelledBeforeSleepingDoesNotWait() async throws {
        let sleeper = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            try await OvercommitExecutor.sleep(for: .seconds(3600))
        }
        await #expect(throws: CancellationError.self) { try await sleeper.value }
    }

    /// Threads name themselves in the kernel, cut to 15 bytes at a character boundary.
    @Test(arguments: [("probe-thread-name-long", "probe-thread-na"), ("vrrp-ññññññ", "vrrp-ñññññ"), ("short", "short")])
    func threadsCarryTheirNamesInTheKernel(name: String, expected: String) {
        let seen = NameBox()
        let done = DispatchSemaphore(value: 0)
        Thread.named(name) {
            seen.set((try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)) ?? "")
            done.signal()
        }.start()
        done.wait()
        #expect(seen.get().trimmingCharacters(in: .newlines) == expected)
    }
}

final class NameBox: @unchecked Sendable {
    private let lock = NSLock()
    private var value = ""
    func set(_ name: String) { lock.withLock { value = name } }
    func get() -> String { lock.withLock { value } }
}
