import FuzzTargets
#if canImport(Glibc)
import Glibc
#endif

// Built two ways:
// - `scripts/fuzz.sh` builds with `-sanitize=fuzzer -D FUZZING`: main hands control to
//   libFuzzer's driver (LLVMFuzzerRunDriver), which calls `fuzzOne` with each input for
//   the target named by OVERCAST_FUZZ_TARGET. (SwiftPM links every executable's main
//   under its own name, so libFuzzer's own main cannot be used.)
// - A plain build is a replayer: `overcast-fuzz TARGET FILE...` runs each file through
//   the same function (how a crash the fuzzer found is reproduced).

/// Writes to standard error (fd 2) without the C `stderr` global.
func complain(_ message: String) {
    _ = message.withCString { write(2, $0, strlen($0)) }
}

#if FUZZING
nonisolated(unsafe) private var selected = FuzzTarget.advert

@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<CInt>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    selected.run(bytes)
    return 0
}

@main
struct Fuzz {
    static func main() {
        let name = getenv("OVERCAST_FUZZ_TARGET").map { String(cString: $0) } ?? ""
        guard let target = FuzzTarget(rawValue: name) else {
            complain("overcast-fuzz: set OVERCAST_FUZZ_TARGET to one of: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", "))\n")
            exit(2)
        }
        selected = target
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv, fuzzOne))
    }
}
#else
@main
struct Replay {
    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        guard let name = arguments.first, let target = FuzzTarget(rawValue: name) else {
            complain("usage: overcast-fuzz \(FuzzTarget.allCases.map(\.rawValue).joined(separator: "|")) FILE...\n")
            exit(2)
        }
        for path in arguments.dropFirst() {
            guard let file = fopen(path, "rb") else { complain("overcast-fuzz: cannot open \(path)\n"); exit(1) }
            var bytes: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let count = fread(&buffer, 1, buffer.count, file)
                if count <= 0 { break }
                bytes += buffer[0..<count]
            }
            fclose(file)
            target.run(bytes)
            print("\(path): ok")
        }
    }
}
#endif
