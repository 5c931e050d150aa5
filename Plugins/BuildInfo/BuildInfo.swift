import Foundation
import PackagePlugin

/// Generates BuildInfo.swift for the `dnswatch` target: the version from the package's VERSION file (the
/// one place it is written; the Makefile reads it too) and the commit from `git rev-parse --short HEAD`
/// ("unknown" when the package is not a git checkout), written by Plugins/BuildInfo/buildinfo.sh.
///
/// A build command rather than a prebuild command: SwiftPM does not rerun prebuild commands on incremental
/// builds. Its inputs make it rerun when VERSION, the script or `.git/logs/HEAD` (the reflog, appended to
/// whenever HEAD moves: commit, checkout, reset, pull) changes.
@main
struct BuildInfoPlugin: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: any Target) throws -> [Command] {
        let package = context.package.directoryURL
        let script = package.appending(path: "Plugins/BuildInfo/buildinfo.sh")
        let output = context.pluginWorkDirectoryURL.appending(path: "BuildInfo.swift")
        let inputs = [script, package.appending(path: "VERSION"), package.appending(path: ".git/HEAD"),
                      package.appending(path: ".git/logs/HEAD")]
            .filter { FileManager.default.fileExists(atPath: $0.path(percentEncoded: false)) }
        return [
            .buildCommand(
                displayName: "Writing BuildInfo.swift (VERSION and git commit)",
                executable: URL(filePath: "/bin/sh"),
                arguments: [script.path(percentEncoded: false), package.path(percentEncoded: false),
                            output.path(percentEncoded: false)],
                inputFiles: inputs,
                outputFiles: [output])
        ]
    }
}
