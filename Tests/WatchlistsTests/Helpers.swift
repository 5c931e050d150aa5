import Foundation
import Testing
import DNSWatchModel
@testable import Watchlists
import TestSupport

/// Parses `lines` joined by newlines as the file `t.txt`.
func parse(_ lines: String..., path: String = "t.txt") -> ParsedWatchlist {
    WatchlistParser.parse(text: lines.joined(separator: "\n"), path: path)
}

/// The normalised name, for expectations.
func name(_ s: String) throws -> DomainName { try DomainName(s) }

/// The package root (the directory holding Package.swift): TestSupport's.
func packageRoot() -> URL { DNSWatchBinary.packageRoot }
