/// What this build is. `scripts/package.sh` writes the release's own values here for the
/// build (from `git describe`) and puts this file back afterwards; a build from source
/// keeps these.
enum BuildInfo {
    static let version = "0.1.0"
    static let commit = "unknown"
}
