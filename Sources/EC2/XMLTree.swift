import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// An XML document as a small tree of elements, built by Foundation's XML parser
/// (libxml2 underneath). EC2 answers in XML; reading it through a real parser rather
/// than string searching means a reordered, namespaced or escaped response is read
/// correctly and a truncated one is reported, never half-used.
public struct XMLTree: Sendable, Hashable {
    /// The element's local name (any namespace prefix removed).
    public var name: String
    /// The element's own character data, trimmed.
    public var text: String
    public var children: [XMLTree]

    public init(name: String, text: String = "", children: [XMLTree] = []) {
        self.name = name
        self.text = text
        self.children = children
    }

    /// The first child named `name`.
    public func child(_ name: String) -> XMLTree? { children.first { $0.name == name } }

    /// The text of the child named `name`, nil when absent or empty.
    public func value(_ name: String) -> String? {
        guard let text = child(name)?.text, !text.isEmpty else { return nil }
        return text
    }

    /// The `item` children of the child named `name` (EC2's lists: `<routeSet><item>...`).
    public func items(_ name: String) -> [XMLTree] {
        child(name)?.children.filter { $0.name == "item" } ?? []
    }

    /// Parses `bytes`; a malformed document throws with libxml2's line and column.
    public static func parse(_ bytes: [UInt8]) throws(XMLTreeError) -> XMLTree {
        let builder = Builder()
        let parser = XMLParser(data: Data(bytes))
        parser.shouldProcessNamespaces = true
        parser.shouldResolveExternalEntities = false
        parser.delegate = builder
        let ok = parser.parse()
        if let error = builder.error { throw error }
        guard ok, let root = builder.root else {
            let message = parser.parserError.map { ($0 as NSError).localizedDescription } ?? "no document element"
            throw XMLTreeError(line: parser.lineNumber, column: parser.columnNumber, message: message)
        }
        return root
    }

    /// Collects elements on a stack while the parser walks the document.
    private final class Builder: NSObject, XMLParserDelegate {
        var stack: [XMLTree] = []
        var root: XMLTree?
        var error: XMLTreeError?
        /// Documents nested deeper than this are refused: no EC2 response comes close,
        /// and a hostile one must not exhaust memory.
        static let maximumDepth = 64

        func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                    qualifiedName qName: String?, attributes attributeDict: [String: String] = [:]) {
            guard stack.count < Self.maximumDepth else {
                error = XMLTreeError(line: parser.lineNumber, column: parser.columnNumber,
                                     message: "elements nested deeper than \(Self.maximumDepth)")
                parser.abortParsing()
                return
            }
            let local = elementName.split(separator: ":").last.map(String.init) ?? elementName
            stack.append(XMLTree(name: local))
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            guard !stack.isEmpty else { return }
            stack[stack.count - 1].text += string
        }

        func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName qName: String?) {
            guard var element = stack.popLast() else { return }
            element.text = element.text.trimmingCharacters(in: .whitespacesAndNewlines)
            if stack.isEmpty { root = element } else { stack[stack.count - 1].children.append(element) }
        }
    }
}

/// A document that is not well-formed XML, with where the parser stopped.
public struct XMLTreeError: Error, CustomStringConvertible, Sendable, Hashable {
    public var line: Int
    public var column: Int
    public var message: String
    public var description: String { "malformed XML at line \(line), column \(column): \(message)" }
}
