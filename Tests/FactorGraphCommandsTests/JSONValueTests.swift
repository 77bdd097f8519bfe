import FactorGraphCommands
import Foundation
import Testing

@Suite("JSON results: text a JSON parser reads back to the same values")
struct JSONValueTests {
    @Test("strings with quotes, backslashes, control characters and non-ASCII; numbers to the last bit")
    func roundTrip() throws {
        let awkward = "a \"quoted\" \\ back\\slash\nnew line\ttab\u{01}\u{1F} é 😀 </script>"
        var numbers: [Double] = [0, -0.0, 1, 0.1, 1e-300, 5e-324, 1.7976931348623157e308, -2.5e-8, 1 / 3]
        var state: UInt64 = 7
        for _ in 0..<200 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let x = Double(bitPattern: state)
            if x.isFinite { numbers.append(x) }
        }
        let value: JSONValue = [
            "text": .string(awkward), "numbers": .array(numbers.map(JSONValue.number)),
            "nested": ["empty": [], "object": [:], "flag": true, "none": .null, "count": 42],
            "nonFinite": .array([.finite(.infinity), .finite(-.infinity), .finite(.nan)])
        ]
        let parsed = try #require(
            try JSONSerialization.jsonObject(with: Data(value.text().utf8)) as? [String: Any])
        #expect(parsed["text"] as? String == awkward)
        // JSONDecoder reads numbers exactly (JSONSerialization on Linux can be off in the last place).
        struct Numbers: Decodable { let numbers: [Double] }
        let back = try JSONDecoder().decode(Numbers.self, from: Data(value.text().utf8)).numbers
        #expect(back.count == numbers.count)
        for (a, b) in zip(back, numbers) { #expect(a == b, "\(a) vs \(b)") }
        let nested = try #require(parsed["nested"] as? [String: Any])
        #expect(nested["count"] as? Int == 42 && nested["flag"] as? Bool == true && nested["none"] is NSNull)
        #expect((nested["empty"] as? [Any])?.isEmpty == true && (nested["object"] as? [String: Any])?.isEmpty == true)
        #expect(parsed["nonFinite"] as? [String] == ["inf", "-inf", "nan"])
        #expect(value.text().contains("\n  \"nested\": {\n"), "objects are indented")
    }
}
