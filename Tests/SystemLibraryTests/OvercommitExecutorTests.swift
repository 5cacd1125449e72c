import Foundation
import Testing
import LinuxNet
@testable import OvercommitExecutor

/// The serial-queue executor `overcast` makes Swift's default (`OvercommitExecutor`): its
/// jobs, yields and sleeps run on its queue, on libdispatch's overcommit pool (never on
/// the monitored one, whose first worker arms a 1 Hz timer for the life of the process).
/// Tasks here prefer the executor; installing it as the default would move the whole test
/// run. The binary's own installation is checked by IntegrationTests (`overcast
/// libraries`, and the idle daemon's wake-ups).
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

    /// Where a job runs: the executor's queue, on a worker of the overcommit pool
    /// ("-qos.overcommit"; the monitored pool's are "oot.default-qos"). A runtime that
    /// sent sleeps or yields elsewhere, or a libdispatch that put serial queues on the
    /// monitored pool, fails here.
    @Test(.timeLimit(.minutes(1)))
    func jobsYieldsAndSleepsRunOnTheQueueOnTheOvercommitPool() async throws {
        let expected = "overcast.tasks on -qos.overcommit"
        let timedBefore = SerialQueueExecutor.shared.timedJobCount
        let placements = try await Task(executorPreference: SerialQueueExecutor.shared) {
            var seen = [OvercommitExecutor.placement]
            await Task.yield()
            seen.append(OvercommitExecutor.placement)
            try await Task.sleep(for: .milliseconds(5))
            seen.append(OvercommitExecutor.placement)
            try await Task.sleep(until: .now + .milliseconds(5), clock: .suspending)
            seen.append(OvercommitExecutor.placement)
            return seen
        }.value
        #expect(placements == Array(repeating: expected, count: 4))
        // Both sleeps' timers were this executor's (a wake-up elsewhere would still
        // resume the task here, on its preferred executor).
        #expect(SerialQueueExecutor.shared.timedJobCount - timedBefore >= 2)
        // Off the executor: no label, whatever the thread.
        #expect(OvercommitExecutor.currentQueueLabel == "")
    }

    @Test(.timeLimit(.minutes(1)))
    func aSleepLastsAtLeastItsDuration() async throws {
        try await Task(executorPreference: SerialQueueExecutor.shared) {
            let clock = ContinuousClock()
            let started = clock.now
            try await Task.sleep(for: .milliseconds(60))
            #expect(clock.now - started >= .milliseconds(60))
            // Zero and negative durations do not wait for a timer, and still resume.
            try await Task.sleep(for: .zero)
            try await Task.sleep(for: .seconds(-1))
        }.value
    }

    @Test(.timeLimit(.minutes(1)))
    func concurrentSleepsEachResumeOnce() async throws {
        let finished = try await withTaskExecutorPreference(SerialQueueExecutor.shared) {
            try await withThrowingTaskGroup(of: Int.self) { group in
                for i in 0..<200 {
                    group.addTask {
                        try await Task.sleep(for: .milliseconds(i % 20))
                        return i
                    }
                }
                return try await group.reduce(into: Set<Int>()) { $0.insert($1) }
            }
        }
        #expect(finished == Set(0..<200))
    }

    @Test(.timeLimit(.minutes(1)))
    func cancellationEndsALongSleepAtOnce() async throws {
        let clock = ContinuousClock()
        // The sleeper reports when its sleep ended, as its own executor saw it: this test's
        // task runs on the test run's pool, which blocking lab tests may keep busy.
        let sleeper = Task(executorPreference: SerialQueueExecutor.shared) { () -> (ContinuousClock.Instant, Bool) in
            do {
                try await Task.sleep(for: .seconds(3600))
                return (clock.now, false)
            } catch {
                return (clock.now, error is CancellationError)
            }
        }
        let cancelled = clock.now
        sleeper.cancel()
        let (ended, threwCancellation) = await sleeper.value
        #expect(threwCancellation)
        // "At once" against an hour: seconds would mean the cancellation went unheard.
        #expect(ended - cancelled < .seconds(10))
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
