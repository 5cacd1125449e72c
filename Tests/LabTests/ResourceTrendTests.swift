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

    @Test func thisProcessCanBeRead() throws {
        let point = try #require(ResourceTrend.read(pid: getpid(), at: 0))
        #expect(point.files > 2 && point.threads >= 1 && point.residentKiB > 1000)
        #expect(ResourceTrend.read(pid: 999_999_999, at: 0) == nil)
    }
}
