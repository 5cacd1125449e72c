#if canImport(Glibc)
import Glibc
#endif

/// The one rule for a test that needs something from the machine: outside CI it skips
/// with the reason printed; under CI (`CI=true`) it runs and fails, so a CI run can
/// never pass by skipping. Lab's `Prerequisites` and the pure unit targets both use it.
public enum TestGate {
    public static var isCI: Bool {
        guard let value = getenv("CI") else { return false }
        return String(cString: value) == "true"
    }

    /// For `.enabled(if:)`: `missing` is nil when the test has what it needs, otherwise why not.
    public static func enabled(missing: String?, test: String) -> Bool {
        guard let missing else { return true }
        if isCI { return true }
        print("SKIP \(test): \(missing)")
        return false
    }
}
