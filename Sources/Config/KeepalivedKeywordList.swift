/// Every keyword keepalived's parsers register, by release (generated into
/// KeepalivedKeywords-VERSION.swift by scripts/keepalived-keywords.sh): the registry's
/// test fails when one of them has no fate in Overcast (docs/keywords.md).
public enum KeepalivedKeywordList {}
