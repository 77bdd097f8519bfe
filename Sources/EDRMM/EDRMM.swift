// The evolutionary DRMM (a tree of templates) specialises the generic factor graph: its
// max-sum inference is a decision tree, checked against the generic engine.
@_exported import FactorGraph
