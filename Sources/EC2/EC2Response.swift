/// A route as DescribeRouteTables reports it.
public struct EC2Route: Sendable, Hashable {
    public var destination: String?
    public var instanceID: String?
    public var networkInterfaceID: String?
    public var gatewayID: String?
    /// "active" or "blackhole".
    public var state: String?

    public init(destination: String?, instanceID: String? = nil, networkInterfaceID: String? = nil,
                gatewayID: String? = nil, state: String? = nil) {
        self.destination = destination
        self.instanceID = instanceID
        self.networkInterfaceID = networkInterfaceID
        self.gatewayID = gatewayID
        self.state = state
    }

    /// Whether traffic for this route goes to `target`.
    public func points(at target: RouteTarget) -> Bool {
        switch target {
        case .instance(let id): instanceID == id
        case .networkInterface(let id): networkInterfaceID == id
        }
    }

    /// What the route points at, for logs: the instance, else the interface, else the gateway.
    public var targetDescription: String { instanceID ?? networkInterfaceID ?? gatewayID ?? "nothing" }
}

public struct EC2RouteTable: Sendable, Hashable {
    public var id: String
    public var routes: [EC2Route]
    public var vpcID: String? = nil
    public var associations: [EC2RouteTableAssociation] = []

    public init(id: String, routes: [EC2Route], vpcID: String? = nil, associations: [EC2RouteTableAssociation] = []) {
        self.id = id
        self.routes = routes
        self.vpcID = vpcID
        self.associations = associations
    }

    public func route(to destination: String) -> EC2Route? { routes.first { $0.destination == destination } }
}

/// Reading EC2's XML answers into values. Anything missing that the answer must have is
/// a `malformed` failure naming the element, never a silent default.
public enum EC2Response {
    /// The `<Response><Errors><Error>` document EC2 sends with a 4xx/5xx, if `body` is one.
    public static func serviceError(status: Int, body: [UInt8]) -> EC2Failure? {
        guard let tree = try? XMLTree.parse(body) else { return nil }
        let error = tree.child("Errors")?.child("Error") ?? (tree.name == "Error" ? tree : tree.child("Error"))
        guard let error, let code = error.value("Code") else { return nil }
        return .service(code: code, message: error.value("Message") ?? "", requestID: tree.value("RequestID") ?? tree.value("RequestId"),
                        httpStatus: status)
    }

    public static func routeTables(_ tree: XMLTree, action: String = "DescribeRouteTables") throws(EC2Failure) -> [EC2RouteTable] {
        guard tree.child("routeTableSet") != nil else {
            throw .malformed(action: action, detail: "no <routeTableSet> in <\(tree.name)>")
        }
        var tables: [EC2RouteTable] = []
        for item in tree.items("routeTableSet") {
            guard let id = item.value("routeTableId") else {
                throw .malformed(action: action, detail: "a <routeTableSet> item without <routeTableId>")
            }
            let routes = item.items("routeSet").map {
                EC2Route(destination: $0.value("destinationCidrBlock"), instanceID: $0.value("instanceId"),
                         networkInterfaceID: $0.value("networkInterfaceId"), gatewayID: $0.value("gatewayId"),
                         state: $0.value("state"))
            }
            let associations = item.items("associationSet").map {
                EC2RouteTableAssociation(subnetID: $0.value("subnetId"), main: $0.value("main") == "true")
            }
            tables.append(EC2RouteTable(id: id, routes: routes, vpcID: item.value("vpcId"), associations: associations))
        }
        return tables
    }

    /// `<return>true</return>` of a write action. AWS always sends it; moto leaves it out
    /// of ReplaceRoute, so a `<ActionResponse>` without it counts as success. Any other
    /// document is malformed.
    public static func returnValue(_ tree: XMLTree, action: String) throws(EC2Failure) -> Bool {
        switch tree.value("return") {
        case "true": return true
        case "false": return false
        case nil where tree.child("return") == nil && tree.name == action + "Response": return true
        case let other: throw .malformed(action: action, detail: "<return> is \(other.map { "'\($0)'" } ?? "missing") in <\(tree.name)>")
        }
    }

    /// A boolean attribute of DescribeInstanceAttribute (`<sourceDestCheck><value>true</value>`).
    public static func booleanAttribute(_ tree: XMLTree, _ name: String) throws(EC2Failure) -> Bool {
        switch tree.child(name)?.value("value") {
        case "true": return true
        case "false": return false
        case let other:
            throw .malformed(action: "DescribeInstanceAttribute", detail: "<\(name)><value> is \(other.map { "'\($0)'" } ?? "missing")")
        }
    }
}
