@testable import Config

/// What the reader made of a text, for the syntax and parameter tests.
func parsed(_ text: String, configID: String? = nil, budget: Int = 16 << 20) -> ([Statement], [Diagnostic]) {
    var source = ConfigSource(configID: configID, expansionBudget: budget)
    let result = source.parse(text: text, file: "t.conf")
    return (result, source.diagnostics.all)
}

/// Statements as one line: words, with blocks in braces and `; ` between statements.
func shape(_ statements: [Statement]) -> String {
    statements.map { s in
        s.words.map(\.text).joined(separator: " ") + (s.block.map { " {" + shape($0) + "}" } ?? "")
    }.joined(separator: "; ")
}
