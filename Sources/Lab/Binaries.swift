import Foundation

/// Paths of the project's own executables, found beside the running test bundle (same
/// build directory), so tests run exactly what was just built.
public enum Binaries {
    public static var buildDirectory: String {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return (exe as NSString).deletingLastPathComponent
    }

    public static var overcast: String { buildDirectory + "/overcast" }
}
