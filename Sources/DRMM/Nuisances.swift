/// A full nuisance configuration `g = (g⁽¹⁾, …, g⁽ᴸ⁾)`: for every pooled unit of every level,
/// its translation `t` (position in the pool window, row-major: `t = di·p + dj`) and its
/// switch `a` (ON renders, OFF does not).
public struct Nuisances: Equatable, Sendable {
    /// Per level (index 0 is level 1), per pooled unit (row-major over `[C, H, W]`).
    public var translations: [[Int]]
    /// Per level, per pooled unit.
    public var switches: [[Bool]]

    /// Nuisances from per-level translations and switches (checked against a model when used).
    public init(translations: [[Int]], switches: [[Bool]]) {
        self.translations = translations
        self.switches = switches
    }
}
