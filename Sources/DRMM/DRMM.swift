// The Deep Rendering Mixture Model specialises the generic factor graph: every rendering
// model can be exported to a `FactorGraph`, whose max-sum engine is the oracle for the
// DRMM's own bottom-up pass.
@_exported import FactorGraph
