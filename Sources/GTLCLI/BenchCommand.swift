import CBlas
import Foundation
import GTLEngine

/// `gtl bench engine|cluster`: speed of the engine (steps/s against the sgemm bound) and of the
/// scout cluster (dispatch, snapshot transfer against raw ZeroMQ, reducer).
///
/// Benchmarks are commands, not timed tests: the machines are shared and noisy, so every figure
/// is a median over repeats, and each figure and its reference are measured in the same run.
struct BenchCommand: Command {
    static let summary = "measure engine and cluster speed (steps/s, sgemm GFLOP/s, dispatch, transfer)"
    static var help: String { EngineBenchCommand.help + "\n\n" + ClusterBench.help }

    private let body: () throws -> Int32

    init(_ args: inout Arguments) throws {
        switch args.positional() {
        case "engine": let c = try EngineBenchCommand(&args); body = c.run
        case "cluster": let c = try ClusterBench(&args); body = c.run
        default: throw UsageError("expected 'gtl bench engine' or 'gtl bench cluster dispatch|snapshot|reducer'")
        }
    }

    func run() throws -> Int32 { try body() }
}

/// `gtl bench engine`: training steps/s of the reference models against what sgemm alone allows.
struct EngineBenchCommand {
    static let help = """
    Usage: gtl bench engine [--repeats N] [--seconds S] [--threads T] [--model NAME] [--json]

    Trains the reference models on random data (batch 32, plain SGD) and reports steps/s, sgemm
    GFLOP/s on this machine, and the fraction of the sgemm-bound step rate reached.
      --repeats N    timed repeats per figure, median reported (default 7)
      --seconds S    seconds per repeat (default 0.5)
      --threads T    OpenBLAS threads (default 1, the cluster default: one per worker process)
      --model NAME   mlp784 | mlp64 | cnn | all (default all)
      --json         one JSON object per model instead of a table
    """

    let repeats: Int
    let seconds: Double
    let threads: Int
    let models: [String]
    let json: Bool

    init(_ args: inout Arguments) throws {
        repeats = try args.int("repeats", in: 1...1000) ?? 7
        seconds = Double(try args.float("seconds", in: 0.01...600) ?? 0.5)
        threads = try args.int("threads", in: 1...256) ?? 1
        let m = try args.choice("model", ["mlp784", "mlp64", "cnn", "all"]) ?? "all"
        models = m == "all" ? ["mlp784", "mlp64", "cnn"] : [m]
        json = args.flag("json")
    }

    func run() throws -> Int32 {
        openblas_set_num_threads(Int32(threads))
        let peak = EngineBench.sgemmGFLOPs(n: 256, repeats: repeats, seconds: seconds)
        if !json {
            print("OpenBLAS threads: \(threads); sgemm 256x256x256: \(fmt(peak.median)) GFLOP/s (min \(fmt(peak.min)), max \(fmt(peak.max)))")
            print("model                         steps/s (min..max)        MFLOP/step  GFLOP/s  bound steps/s  of bound")
        }
        for name in models {
            let spec = EngineBench.spec(name)
            let r = try EngineBench.trainingSteps(spec: spec, batch: 32, repeats: repeats, seconds: seconds)
            let flops = EngineBench.conventionalFLOPs(spec: spec, batch: 32)
            let bound = peak.median * 1e9 / flops
            if json {
                print(#"{"model":"\#(name)","threads":\#(threads),"steps_per_s":\#(fmt(r.median)),"min":\#(fmt(r.min)),"max":\#(fmt(r.max)),"mflop_per_step":\#(fmt(flops / 1e6)),"sgemm_gflops":\#(fmt(peak.median)),"bound_steps_per_s":\#(fmt(bound)),"fraction_of_bound":\#(fmt(r.median / bound))}"#)
            } else {
                let label = "\(name) \(spec.description)".prefix(29).padding(toLength: 29, withPad: " ", startingAt: 0)
                print("\(label) \(fmt(r.median).leftPad(8)) (\(fmt(r.min))..\(fmt(r.max)))".padding(toLength: 56, withPad: " ", startingAt: 0)
                      + "\(fmt(flops / 1e6).leftPad(8))  \(fmt(r.median * flops / 1e9).leftPad(7))  \(fmt(bound).leftPad(13))  \(fmt(100 * r.median / bound))%")
            }
        }
        return ExitCode.success
    }

    private func fmt(_ x: Double) -> String { String(format: x >= 100 ? "%.0f" : "%.2f", x) }
}

extension String {
    func leftPad(_ n: Int) -> String { count >= n ? self : String(repeating: " ", count: n - count) + self }
}

/// The measurements behind `gtl bench engine`, kept apart from printing.
enum EngineBench {
    /// Median, minimum and maximum of repeated measurements.
    struct Stats { let median, min, max: Double }

    static func stats(_ xs: [Double]) -> Stats {
        let s = xs.sorted()
        return Stats(median: s[s.count / 2], min: s[0], max: s[s.count - 1])
    }

    /// The benchmark models (the same as scripts/bench's PyTorch side).
    static func spec(_ name: String) -> NetworkSpec {
        switch name {
        case "mlp784": return try! NetworkSpec.parse("784: dense(256) relu dense(10)")
        case "mlp64": return try! NetworkSpec.parse("64: dense(32) relu dense(10)")
        default: return try! NetworkSpec.parse("1x28x28: conv2d(8,3,1,1) relu maxpool(2,2) conv2d(16,3,1,1) relu maxpool(2,2) flatten dense(10)")
        }
    }

    /// FLOPs of one training step counted the conventional way: for every dense or conv layer a
    /// forward product, a weight-gradient product and an input-gradient product (the engine skips
    /// the first layer's input gradient, so it actually executes fewer).
    static func conventionalFLOPs(spec: NetworkSpec, batch: Int) -> Double {
        var shape = spec.inputShape, total = 0.0
        for l in spec.layers {
            var layer = l.makeLayer()
            let out = try! layer.build(inputShape: shape)
            switch l {
            case .dense(let n): total += 3 * 2 * Double(batch * shape.elementCount * n)
            case .conv2d(let c, let k, _, _): total += 3 * 2 * Double(batch * c * out[1] * out[2] * shape[0] * k * k)
            default: break
            }
            shape = out
        }
        return total
    }

    /// Calls `body` repeatedly for about `seconds`; returns calls per second.
    static func rate(seconds: Double, _ body: () -> Void) -> Double {
        var calls = 0
        let start = DispatchTime.now().uptimeNanoseconds
        var now = start
        repeat {
            for _ in 0..<8 { body() }
            calls += 8
            now = DispatchTime.now().uptimeNanoseconds
        } while Double(now - start) < seconds * 1e9
        return Double(calls) / (Double(now - start) / 1e9)
    }

    /// sgemm GFLOP/s on n×n×n products.
    static func sgemmGFLOPs(n: Int, repeats: Int, seconds: Double) -> Stats {
        var rng = RandomGenerator(seed: 1)
        let a = (0..<(n * n)).map { _ in rng.nextUniform() }, b = a
        var c = [Float](repeating: 0, count: n * n)
        let flops = 2 * Double(n * n * n)
        let samples = (0..<repeats).map { _ in
            rate(seconds: seconds) {
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(n), Int32(n), Int32(n), 1, a, Int32(n), b, Int32(n), 0, &c, Int32(n))
            } * flops / 1e9
        }
        return stats(samples)
    }

    /// Training steps per second (forward, backward, SGD update) on a fixed random batch.
    static func trainingSteps(spec: NetworkSpec, batch: Int, repeats: Int, seconds: Double) throws -> Stats {
        var net = try spec.makeNetwork(seed: 1)
        var rng = RandomGenerator(seed: 2)
        let x = (0..<(batch * net.inputWidth)).map { _ in rng.nextUniform() }
        let y = (0..<batch).map { _ in Int32(rng.nextInt(below: net.outputWidth)) }
        var sgd = SGD(learningRate: 0.01)
        let loss = SoftmaxCrossEntropy()
        func step() {
            x.withUnsafeBufferPointer { xb in y.withUnsafeBufferPointer {
                _ = net.computeGradients(xb, targets: .classes($0), batch: batch, loss: loss)
            } }
            sgd.step(&net)
        }
        for _ in 0..<20 { step() }
        return stats((0..<repeats).map { _ in rate(seconds: seconds, step) })
    }
}
