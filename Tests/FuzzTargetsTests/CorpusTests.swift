import Foundation
import Testing
import TestSupport
@testable import FuzzTargets

/// Every seed and every regression in `Fuzz/` runs through its fuzz target (a trap
/// fails the whole run), and a few thousand deterministic mutations of the seeds do too:
/// a short fuzz run inside the unit tests, with the same properties libFuzzer checks.
@Suite struct CorpusTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fuzz")

    static func files(_ kind: String, _ target: FuzzTarget) -> [[UInt8]] {
        let directory = root.appendingPathComponent(kind).appendingPathComponent(target.rawValue)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.sorted().compactMap { FileManager.default.contents(atPath: directory.appendingPathComponent($0).path).map { [UInt8]($0) } }
    }

    @Test(arguments: FuzzTarget.allCases)
    func seedsAndRegressionsRun(_ target: FuzzTarget) {
        let seeds = Self.files("corpus", target)
        #expect(seeds.count >= 2, "Fuzz/corpus/\(target.rawValue) has \(seeds.count) seeds")
        for input in seeds + Self.files("regressions", target) { target.run(input) }
    }

    @Test(arguments: FuzzTarget.allCases)
    func mutatedSeedsRun(_ target: FuzzTarget) {
        var random = SeededRandom(seed: 0x0FE2CA57)
        let seeds = Self.files("corpus", target)
        #expect(!seeds.isEmpty)
        for round in 0..<(seeds.isEmpty ? 0 : 1500) {
            var input = seeds[round % seeds.count]
            for _ in 0..<(1 + Int(random.next() % 4)) {
                let position = input.isEmpty ? 0 : Int(random.next() % UInt64(input.count))
                switch random.next() % 5 {
                case 0 where !input.isEmpty: input[position] ^= UInt8(truncatingIfNeeded: random.next() | 1)
                case 1 where !input.isEmpty: input.removeSubrange(position..<min(input.count, position + 1 + Int(random.next() % 8)))
                case 2: input.insert(UInt8(truncatingIfNeeded: random.next()), at: position)
                case 3: input = Array(input.prefix(position))
                default: input += input.prefix(Int(random.next() % 16))
                }
            }
            target.run(input)
        }
    }

    /// The sealed seeds are what a router with the fuzzing key accepts: the target's
    /// deep path (HMAC verified, then every VRRP check) is reached from the corpus.
    @Test func sealedSeedsPassTheHMACCheck() {
        let sealed = Self.files("corpus", .advert).filter { $0.count > 44 && $0[$0.count - 44..<$0.count - 40].elementsEqual([0x4F, 0x56, 0x48, 0x01]) }
        #expect(sealed.count >= 2)
        for input in sealed { #expect(FuzzTarget.acceptedWithAuthentication(input), "\(input)") }
    }
}
