import ArgumentParser
import Config
import Foundation
import Overlay

/// `overcast overlay up|down|status -f FILE`: the GRE mesh of the config's overlay blocks.
struct OverlayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "overlay",
        abstract: "Build, remove or show the GRE overlay (bridge and gretap mesh) described by the configuration.",
        subcommands: [Up.self, Down.self, Show.self])

    struct Selection: ParsableArguments {
        @OptionGroup var options: ConfigOptions
        @Option(help: "Only this overlay (default: every overlay block).")
        var name: String?

        func overlays() throws -> [Config.Overlay] {
            let report = options.load()
            printDiagnostics(report)
            guard report.isValid else { throw ExitCode(1) }
            let overlays = report.configuration.overlays.filter { name == nil || $0.name == name }
            guard !overlays.isEmpty else {
                FileHandle.standardError.write(Data("\(options.file): no overlay block\(name.map { " named \($0)" } ?? "")\n".utf8))
                throw ExitCode(1)
            }
            return overlays
        }
    }

    /// Applies `change` to every selected overlay and prints what it did.
    static func each(_ selection: Selection, nothing: String,
                     _ change: (OverlayManager, Config.Overlay) throws -> [String]) throws {
        try run {
            let manager = try OverlayManager()
            for overlay in try selection.overlays() {
                let changes = try change(manager, overlay)
                print(changes.isEmpty ? "\(overlay.name): \(nothing)" : changes.map { "\(overlay.name): \($0)" }.joined(separator: "\n"))
            }
        }
    }

    static func run(_ body: () throws -> Void) throws {
        do { try body() } catch let exit as ExitCode { throw exit } catch {
            FileHandle.standardError.write(Data("overcast overlay: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }

    struct Up: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create or update the overlay; changes only what differs.")
        @OptionGroup var selection: Selection
        func run() throws {
            try OverlayCommand.each(selection, nothing: "up to date") { try $0.up($1) }
        }
    }

    struct Down: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove the overlay's tunnels and bridge.")
        @OptionGroup var selection: Selection
        func run() throws {
            try OverlayCommand.each(selection, nothing: "nothing to remove") { try $0.down($1) }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "status", abstract: "Show each tunnel, its peer and whether frames flow.")
        @OptionGroup var selection: Selection
        func run() throws {
            try OverlayCommand.run {
                let manager = try OverlayManager()
                for overlay in try selection.overlays() {
                    let status = try manager.status(overlay)
                    guard let bridgeUp = status.bridgeUp else {
                        print("\(overlay.name): not built (run overcast overlay up)")
                        continue
                    }
                    print("\(overlay.name): bridge \(bridgeUp ? "up" : "down"), \(status.tunnels.count) tunnel(s)")
                    for t in status.tunnels {
                        print("  \(t.name) -> \(t.peer): \(t.up ? "up" : "down"), rx \(t.receivedPackets) tx \(t.sentPackets) packets, "
                              + (t.flowing ? "frames flowing" : "nothing received yet"))
                    }
                    for peer in status.missing { print("  peer \(peer): no tunnel (run overcast overlay up)") }
                }
            }
        }
    }
}
