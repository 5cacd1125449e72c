import Config
import Foundation
import NetworkTypes

/// What an instance's `ec2_route_failover` resolves to on this host: the block's values
/// with keepalived-style defaults filled in, the VIPs as the routes' destinations and the
/// interface MAC that finds the ENI. Two settings compare equal exactly when a reload can
/// keep the running route worker.
public struct RouteFailoverSettings: Sendable, Equatable {
    var tables: [String]
    /// The VIPs as /32 destinations.
    var destinations: [String]
    var target: EC2RouteFailover.Target
    var instanceID: String?
    var region: String?
    var endpoint: String?
    var imdsEndpoint: String
    var refresh: Double
    var apiTimeout: Double
    /// The VRRP interface's MAC, for finding its ENI through IMDS.
    var mac: String

    /// IMDS answers on the link-local address unless the block names another (a lab's).
    static let defaultIMDSEndpoint = "http://169.254.169.254"

    /// The settings of `ec2` for an instance whose VIPs are `virtualAddresses`, sending on
    /// the interface with MAC `interfaceMAC`. Here rather than in the daemon so that what
    /// the block means for the route worker is decided next to the worker.
    public init(_ ec2: EC2RouteFailover, virtualAddresses: [IPv4Address], interfaceMAC: [UInt8]) {
        tables = ec2.routeTables
        destinations = virtualAddresses.map { "\($0)/32" }
        target = ec2.target
        instanceID = ec2.instanceID
        region = ec2.region
        endpoint = ec2.endpoint
        imdsEndpoint = ec2.imdsEndpoint ?? Self.defaultIMDSEndpoint
        refresh = ec2.refresh
        apiTimeout = ec2.apiTimeout
        // IMDS spells a MAC as lowercase hex pairs joined by colons.
        mac = interfaceMAC.map { String(format: "%02x", $0) }.joined(separator: ":")
    }
}
