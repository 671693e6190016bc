import XCTest
@testable import GTLEngine

/// Central differences of the loss against the analytic gradient of up to 12 parameters per tensor
/// of `net` (whose gradients `evaluate` must compute). Asserts each within 3e-3 + 3e-2·|numeric| and
/// returns the largest absolute difference seen; restores the parameters afterwards.
@discardableResult
func assertGradientsMatchFiniteDifferences(_ net: inout Network, eps: Float, evaluate: (inout Network) -> Float,
                                           file: StaticString, line: UInt) throws -> Float {
    _ = evaluate(&net)
    let analytic = net.gradients, base = net.parameters
    var worst: Float = 0, checked = 0
    for spec in net.layout.specs {
        for i in stride(from: spec.offset, to: spec.offset + spec.count, by: max(1, spec.count / 12)) {
            var p = base
            p[i] = base[i] + eps; try net.setParameters(p); let up = evaluate(&net)
            p[i] = base[i] - eps; try net.setParameters(p); let down = evaluate(&net)
            let numeric = (up - down) / (2 * eps)
            XCTAssertEqual(analytic[i], numeric, accuracy: 3e-3 + 3e-2 * abs(numeric),
                           "\(spec.name)[\(i - spec.offset)]", file: file, line: line)
            worst = max(worst, abs(analytic[i] - numeric))
            checked += 1
        }
    }
    try net.setParameters(base)
    XCTAssertGreaterThan(checked, 0, file: file, line: line)
    return worst
}
