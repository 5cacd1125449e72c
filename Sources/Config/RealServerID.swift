/// A real server of a virtual server as the configuration lists it: the virtual server's
/// place in `virtualServers`, the real server's address and port. The name the health
/// checks and the IPVS table share when one tells the other a server is up or down.
public struct RealServerID: Hashable, Sendable, CustomStringConvertible {
    public var virtualServer: Int
    public var address: String
    public var port: UInt16
    public init(virtualServer: Int, address: String, port: UInt16) {
        self.virtualServer = virtualServer
        self.address = address
        self.port = port
    }
    public var description: String { "vs\(virtualServer) \(address):\(port)" }
}
