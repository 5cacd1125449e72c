/// Where a route sends traffic: this node's instance or one of its network interfaces.
public enum RouteTarget: Hashable, Sendable, CustomStringConvertible {
    case instance(String)
    case networkInterface(String)

    public var description: String {
        switch self {
        case .instance(let id), .networkInterface(let id): id
        }
    }
}

/// One call of the EC2 Query API: an action and its parameters, sent as a form-encoded
/// POST body (the body is signed with the request, so parameters cannot be altered).
public struct EC2Request: Sendable, Hashable {
    public static let apiVersion = "2016-11-15"

    public struct Parameter: Sendable, Hashable {
        public var name: String
        public var value: String
    }

    public var action: String
    public var parameters: [Parameter]

    public init(action: String, parameters: [(String, String)] = []) {
        self.action = action
        self.parameters = parameters.map { Parameter(name: $0.0, value: $0.1) }
    }

    /// `Action=...&Version=...&name=value...`, percent-encoded the way AWS canonicalises
    /// (RFC 3986 unreserved characters only), so what is signed is what is sent.
    public var formBody: String {
        let all = [Parameter(name: "Action", value: action), Parameter(name: "Version", value: Self.apiVersion)] + parameters
        return all.map { "\(Self.encode($0.name))=\(Self.encode($0.value))" }.joined(separator: "&")
    }

    public static func encode(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = Array("0123456789ABCDEF")
                out += "%\(hex[Int(byte >> 4)])\(hex[Int(byte & 0xF)])"
            }
        }
        return out
    }

    private static func targetParameter(_ target: RouteTarget) -> (String, String) {
        switch target {
        case .instance(let id): ("InstanceId", id)
        case .networkInterface(let id): ("NetworkInterfaceId", id)
        }
    }

    public static func replaceRoute(table: String, destination: String, target: RouteTarget) -> EC2Request {
        EC2Request(action: "ReplaceRoute", parameters: [("RouteTableId", table), ("DestinationCidrBlock", destination),
                                                        targetParameter(target)])
    }

    public static func createRoute(table: String, destination: String, target: RouteTarget) -> EC2Request {
        EC2Request(action: "CreateRoute", parameters: [("RouteTableId", table), ("DestinationCidrBlock", destination),
                                                       targetParameter(target)])
    }

    public static func describeRouteTables(_ tables: [String]) -> EC2Request {
        EC2Request(action: "DescribeRouteTables",
                   parameters: tables.enumerated().map { ("RouteTableId.\($0.offset + 1)", $0.element) })
    }

    public static func describeInstanceAttribute(instance: String, attribute: String) -> EC2Request {
        EC2Request(action: "DescribeInstanceAttribute", parameters: [("InstanceId", instance), ("Attribute", attribute)])
    }

    /// A Describe action narrowed by EC2 filters (`Filter.N.Name`, `Filter.N.Value.M`).
    public static func describe(_ action: String, filters: [(name: String, values: [String])]) -> EC2Request {
        var parameters: [(String, String)] = []
        for (n, filter) in filters.enumerated() {
            parameters.append(("Filter.\(n + 1).Name", filter.name))
            parameters += filter.values.enumerated().map { ("Filter.\(n + 1).Value.\($0.offset + 1)", $0.element) }
        }
        return EC2Request(action: action, parameters: parameters)
    }
}
