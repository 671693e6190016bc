import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Documented exit codes (README, "Exit codes").
enum ExitCode {
    static let success: Int32 = 0
    static let failure: Int32 = 1      // the job failed: bad data file, training error, I/O error
    static let usage: Int32 = 2        // bad flags or values
    static let interrupted: Int32 = 3  // stopped by a signal after checkpointing (resume with --resume)
}

/// A subcommand of `gtl`.
protocol Command: SendableMetatype {
    /// One line for `gtl --help`.
    static var summary: String { get }
    /// The full `--help` text.
    static var help: String { get }
    /// Parses flags; throws `UsageError` for bad ones.
    init(_ args: inout Arguments) throws
    /// Does the work; returns the exit code.
    func run() throws -> Int32
}

/// Every subcommand by name, in `--help` order.
enum Commands {
    static let all: [(String, any Command.Type)] = [
    ("run", RunCommand.self),
    ("finetune", FinetuneCommand.self),
    ("inspect", InspectCommand.self),
    ("coordinator", CoordinatorCommand.self),
    ("worker", WorkerCommand.self),
    ("extend", ExtendCommand.self),
    ("keys", KeysCommand.self),
    ("bench", BenchCommand.self),
    ]
}

func mainHelp() -> String {
    var s = "gtl — Guided Transfer Learning: scouts, guide values, guided fine-tuning\n\nUsage: gtl COMMAND [options]\n\nCommands:\n"
    for (name, type) in Commands.all { s += "  \(name.padding(toLength: 13, withPad: " ", startingAt: 0))\(type.summary)\n" }
    s += "\nRun 'gtl COMMAND --help' for a command's options. Exit codes: 0 success, 1 job failed, 2 usage error, 3 stopped by a signal (resume with --resume)."
    return s
}

func runMain() -> Int32 {
    var argv = Array(CommandLine.arguments.dropFirst())
    guard let name = argv.first, !name.hasPrefix("-") else {
        print(mainHelp())
        return argv.isEmpty || argv.contains("--help") || argv.contains("-h") ? ExitCode.success : ExitCode.usage
    }
    argv.removeFirst()
    guard let type = Commands.all.first(where: { $0.0 == name })?.1 else {
        FileHandle.standardError.write(Data("gtl: unknown command '\(name)'\n\n\(mainHelp())\n".utf8))
        return ExitCode.usage
    }
    var args = Arguments(argv, environment: ProcessInfo.processInfo.environment)
    if args.wantsHelp { print(type.help); return ExitCode.success }
    do {
        let command = try type.init(&args)
        try args.finish()
        return try command.run()
    } catch let e as UsageError {
        FileHandle.standardError.write(Data("gtl \(name): \(e)\n".utf8))
        return ExitCode.usage
    } catch {
        FileHandle.standardError.write(Data("gtl \(name): error: \(error)\n".utf8))
        return ExitCode.failure
    }
}

exit(runMain())
