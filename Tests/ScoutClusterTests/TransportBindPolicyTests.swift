import XCTest
@testable import ScoutCluster

final class TransportBindPolicyTests: XCTestCase {
    func testExposedPlaintextBindsAreRefused() {
        for endpoint in ["tcp://0.0.0.0:5555", "tcp://*:5555", "tcp://192.168.1.5:5555", "tcp://[::]:5555",
                         "tcp://eth0:5555", "tcp://127.0.0.1.example.com:5555", "tcp://127.0.0.256:1",
                         "tcp://coordinator.lan:5555", "ws://127.0.0.1:5555", "tcp://127.0.0.1"] {
            XCTAssertThrowsError(try checkBindSecurity(endpoint: endpoint, curve: false, insecure: false), endpoint) { error in
                let text = "\(error)"
                XCTAssertTrue(text.contains(endpoint) && text.contains("CURVE") && text.contains("--insecure"), text)
            }
        }
    }

    func testLoopbackCurveAndInsecureBindsAreAllowed() {
        for endpoint in ["tcp://127.0.0.1:5555", "tcp://127.0.0.1:*", "tcp://127.4.5.6:0", "tcp://localhost:5555",
                         "tcp://[::1]:5555", "ipc:///tmp/gtl.sock", "inproc://zeromq.zap.01"] {
            XCTAssertNoThrow(try checkBindSecurity(endpoint: endpoint, curve: false, insecure: false), endpoint)
        }
        XCTAssertNoThrow(try checkBindSecurity(endpoint: "tcp://0.0.0.0:5555", curve: true, insecure: false))
        XCTAssertNoThrow(try checkBindSecurity(endpoint: "tcp://0.0.0.0:5555", curve: false, insecure: true))
    }

    func testSocketBindAppliesThePolicy() throws {
        let ctx = try ZmqContext()
        let router = try ZmqSocket(context: ctx, kind: .router)
        XCTAssertThrowsError(try router.bind("tcp://0.0.0.0:*"))
        XCTAssertEqual(try router.lastEndpoint(), "", "a refused bind must not reach libzmq")
        let endpoint = try router.bind("tcp://0.0.0.0:*", insecure: true)
        XCTAssertTrue(endpoint.hasPrefix("tcp://0.0.0.0:"), endpoint)
        let other = try ZmqSocket(context: ctx, kind: .router)
        XCTAssertThrowsError(try other.bind(endpoint.replacingOccurrences(of: "0.0.0.0", with: "127.0.0.1"))) {
            XCTAssertTrue("\($0)".contains("bind ROUTER to tcp://127.0.0.1:"), "libzmq errors name the endpoint: \($0)")
        }
    }
}
