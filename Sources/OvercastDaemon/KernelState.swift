import LinuxNet
import Logging
import NetworkTypes

/// Addresses, routes and rules that Overcast puts into the kernel and takes out again as
/// one set: a MASTER's (its excluded VIPs, `virtual_routes`, `virtual_rules`; the VIPs
/// themselves stay in `InstanceSetup.virtualAddresses` because adverts and GARPs need
/// them) or the daemon's static ones (`static_ipaddress`, `static_routes`,
/// `static_rules`). Each entry keeps the configuration's words so a kernel error is
/// logged with the line the operator wrote; errors are logged, never fatal: the rest of
/// the set still goes in, and VRRP runs on.
struct KernelState: Sendable, Equatable {
    struct Entry<Value: Hashable & Sendable>: Sendable, Hashable {
        var value: Value
        /// The configuration line, for log lines.
        var text: String
        /// False for keepalived's `no_track`: its deletion by someone else is let be
        /// (`KernelWatch`).
        var track = true
    }

    var addresses: [Entry<InterfaceAddress>] = []
    var routes: [Entry<KernelRoute>] = []
    var rules: [Entry<PolicyRule>] = []

    var isEmpty: Bool { addresses.isEmpty && routes.isEmpty && rules.isEmpty }

    /// Addresses first (a route may name one as `src`, a gateway may be reachable only
    /// through one), then routes, then the rules that send packets to their tables.
    /// Returns the entries that went in (or were there): only those can be deleted by
    /// someone else, so one the kernel refused never counts as deleted.
    @discardableResult
    func apply(through netlink: NetlinkSocket, logger: Logger, what: String) -> KernelState {
        var applied = KernelState()
        for entry in addresses {
            do { try netlink.addAddress(entry.value); applied.addresses.append(entry) } catch {
                log(logger, "cannot add \(what) address", entry.text, error)
            }
        }
        for entry in routes {
            do { try netlink.addRoute(entry.value); applied.routes.append(entry) } catch {
                log(logger, "cannot add \(what) route", entry.text, error)
            }
        }
        for entry in rules {
            do { try netlink.addRule(entry.value); applied.rules.append(entry) } catch {
                log(logger, "cannot add \(what) rule", entry.text, error)
            }
        }
        return applied
    }

    /// The entries of `self` also in `other` (by kernel value).
    func intersection(_ other: KernelState) -> KernelState { subtracting(subtracting(other)) }

    /// Both sets' entries, `self`'s first.
    func union(_ other: KernelState) -> KernelState {
        let extra = other.subtracting(self)
        return KernelState(addresses: addresses + extra.addresses, routes: routes + extra.routes, rules: rules + extra.rules)
    }

    /// The reverse order of `apply`.
    func withdraw(through netlink: NetlinkSocket, logger: Logger, what: String) {
        for entry in rules {
            do { try netlink.removeRule(entry.value) } catch { log(logger, "cannot remove \(what) rule", entry.text, error) }
        }
        for entry in routes {
            do { try netlink.removeRoute(entry.value) } catch { log(logger, "cannot remove \(what) route", entry.text, error) }
        }
        for entry in addresses {
            do { try netlink.removeAddress(entry.value) } catch { log(logger, "cannot remove \(what) address", entry.text, error) }
        }
    }

    /// What is in `self` and not in `other` (compared by kernel value, not by text).
    func subtracting(_ other: KernelState) -> KernelState {
        let addresses = Set(other.addresses.map(\.value)), routes = Set(other.routes.map(\.value)),
            rules = Set(other.rules.map(\.value))
        return KernelState(addresses: self.addresses.filter { !addresses.contains($0.value) },
                           routes: self.routes.filter { !routes.contains($0.value) },
                           rules: self.rules.filter { !rules.contains($0.value) })
    }

    /// Moves the kernel from `self` to `next`: what `next` dropped is withdrawn, what it
    /// added is applied; entries in both are left alone.
    /// Returns what `apply` added.
    @discardableResult
    func reconcile(to next: KernelState, through netlink: NetlinkSocket, logger: Logger, what: String) -> KernelState {
        subtracting(next).withdraw(through: netlink, logger: logger, what: what)
        return next.subtracting(self).apply(through: netlink, logger: logger, what: what)
    }

    private func log(_ logger: Logger, _ message: String, _ text: String, _ error: any Error) {
        logger.error("\(message)", metadata: ["config": "\(text)", "error": "\(error)"])
    }
}
