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
        // Foundation's parser traps on an element or attribute name that is not UTF-8
        // (found by fuzzing: `<destinat\xffionCidr>` crashed the process), so bytes that
        // are not UTF-8 never reach it. EC2 answers in UTF-8.
        /// The error for what was found at `offset`, with its line and column.
        func refused(at offset: Int, _ message: String) -> XMLTreeError {
            let before = bytes[..<offset]
            let line = before.reduce(1) { $0 + ($1 == 0x0A ? 1 : 0) }
            let column = offset - (before.lastIndex(of: 0x0A).map { $0 + 1 } ?? 0) + 1
            return XMLTreeError(line: line, column: column, message: message)
        }
        if let offset = Self.firstInvalidUTF8(bytes) {
            throw refused(at: offset, "byte 0x\(String(bytes[offset], radix: 16)) at offset \(offset) is not UTF-8")
        }
        if let (offset, what) = Self.firstUnexpectedMarkup(bytes) {
            throw refused(at: offset, "\(what) is not expected in an EC2 answer")
        }
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

    /// Markup EC2 never sends and Foundation's parser mishandles: a processing
    /// instruction other than the leading `<?xml ...?>` declaration (found by fuzzing:
    /// `<?IS?>` made it read a null pointer), and document type declarations (entity
    /// expansion is a memory bomb). Comments and CDATA are fine. Returns the offset.
    static func firstUnexpectedMarkup(_ bytes: [UInt8]) -> (Int, String)? {
        let declaration = Array("<?xml ".utf8)
        var index = 0
        while index + 1 < bytes.count {
            defer { index += 1 }
            guard bytes[index] == 0x3C else { continue }                     // <
            if bytes[index + 1] == 0x3F {                                      // <?
                let leading = bytes[..<index].allSatisfy { [0x20, 0x09, 0x0A, 0x0D].contains($0) }
                if !(leading && bytes[index...].starts(with: declaration)) { return (index, "a processing instruction") }
            } else if bytes[index + 1] == 0x21, bytes[(index + 2)...].starts(with: Array("DOCTYPE".utf8))
                        || bytes[(index + 2)...].starts(with: Array("ENTITY".utf8)) {
                return (index, "a document type declaration")
            }
        }
        return nil
    }

    /// The offset of the first byte that does not belong to valid UTF-8, if any.
    static func firstInvalidUTF8(_ bytes: [UInt8]) -> Int? {
        var parser = Unicode.UTF8.ForwardParser()
        var iterator = bytes.makeIterator()
        var offset = 0
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let scalar): offset += scalar.count
            case .error: return offset
            case .emptyInput: return nil
            }
        }
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
            guard !stopping(parser) else { return }
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
            guard !stopping(parser), !stack.isEmpty else { return }
            stack[stack.count - 1].text += string
        }

        /// The first error ends the parse. Foundation asks libxml2 to recover and read on,
        /// and every further error of a garbled answer cost memory that was never freed
        /// (found by fuzzing: about 25 KB per parse of one 1.6 KB document, so a proxy's
        /// error page on every route refresh would have grown the daemon without bound).
        /// The parse is stopped from the next element or text callback: stopping it from
        /// inside libxml2's error handler made libxml2 read a null pointer (also found by
        /// fuzzing, with an unsupported encoding).
        func parser(_ parser: XMLParser, parseErrorOccurred parseError: Error) {
            guard error == nil else { return }
            error = XMLTreeError(line: parser.lineNumber, column: parser.columnNumber,
                                 message: (parseError as NSError).localizedDescription)
        }

        /// Whether a callback should stop the parse instead of building.
        private func stopping(_ parser: XMLParser) -> Bool {
            guard error != nil else { return false }
            parser.abortParsing()
            return true
        }

        func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName qName: String?) {
            guard !stopping(parser), var element = stack.popLast() else { return }
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
