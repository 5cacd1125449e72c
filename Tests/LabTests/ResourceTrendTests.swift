import Foundation
import Lab
import Testing

/// A leak is a slope: least squares over a daemon's life, per minute.
@Suite struct ResourceTrendTests {
    @Test func aSteadyGrowthIsItsSlopeAndNoiseAroundAFlatLineIsNearZero() throws {
        var growing = ResourceTrend()
        for i in 0..<31 { growing.add(.init(time: Double(i), files: 10 + Double(i) / 6, threads: 8, residentKiB: 30_000 + Double(i % 2) * 100)) }
        let slopes = try #require(growing.slopes)
        #expect(abs(slopes.files - 10) < 1e-9, "1/6 a second is 10 a minute")
        #expect(slopes.threads == 0 && abs(slopes.residentKiB) < 10 && slopes.span == 30)
        var short = ResourceTrend()
        for i in 0..<5 { short.add(.init(time: Double(i), files: 1, threads: 1, residentKiB: 1)) }
        #expect(short.slopes == nil, "under 10 s says nothing")
    }

    /// A step after the start is not a leak; a growth that goes on through the last
    /// third is, for files, threads and RSS alike; under 300 s nothing is judged.
    @Test func aStepAtTheStartIsFlatAndAGrowthThroughTheEndIsALeak() throws {
        var stepped = ResourceTrend(), leaking = ResourceTrend(), short = ResourceTrend()
        for i in 0..<601 {
            let t = Double(i)
            stepped.add(.init(time: t, files: i < 60 ? 33 : 40 + Double(i % 3), threads: 9, residentKiB: i < 60 ? 20_000 : 26_000 + Double(i % 7) * 100))
            leaking.add(.init(time: t, files: 33 + t / 20, threads: 9 + t / 50, residentKiB: 20_000 + t * 20))
            if i < 290 { short.add(.init(time: t, files: t, threads: t, residentKiB: t * 1000)) }
        }
        let flat = try #require(stepped.growth)
        #expect(ResourceTrend.leaks(flat).isEmpty, "\(flat)")
        let growing = try #require(leaking.growth)
        let leaks = ResourceTrend.leaks(growing)
        #expect(leaks.count == 3 && leaks[0].contains("open files grew by 10") && leaks[1].contains("threads grew by 4")
                && leaks[2].contains("RSS grew by 4000 KiB"), "\(growing): \(leaks)")
        #expect(short.growth == nil)
    }

    @Test func thisProcessCanBeRead() throws {
        let point = try #require(ResourceTrend.read(pid: getpid(), at: 0))
        #expect(point.files > 2 && point.threads >= 1 && point.residentKiB > 1000)
        #expect(ResourceTrend.read(pid: 999_999_999, at: 0) == nil)
    }
}
