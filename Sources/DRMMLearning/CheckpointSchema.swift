import Foundation

/// The versions of the checkpoint file and the one migration between them.
///
/// A checkpoint names its version in `format` (`drmm-checkpoint-N`). The types it holds decode
/// with Swift's synthesised `Codable`, every key present; a file of an older version is first
/// rewritten, as JSON, into the current version by ``migrate(_:)``, which renames the keys that
/// changed and gives every key an older file lacks the value that reproduces how that file's
/// run was trained. Version 1 covers every file written before the American spelling of the
/// API: it may lack the keys added while it was current, listed in ``versionOneDefaults``.
enum CheckpointSchema {
    /// The version this library writes.
    static let current = 2

    /// The `format` tag of version `n`.
    static func formatName(version n: Int) -> String { "drmm-checkpoint-\(n)" }

    /// The version a `format` tag names, `nil` for anything else.
    static func version(of format: String) -> Int? {
        let prefix = "drmm-checkpoint-"
        guard format.hasPrefix(prefix), let n = Int(format.dropFirst(prefix.count)), n >= 1 else { return nil }
        return n
    }

    /// Keys a version-1 file may lack, with the value its run used: the choice of convolution
    /// arrived when Winograd did (older runs used im2col), and every term and augmentation added
    /// since was off.
    static var versionOneDefaults: (configuration: [String: Any], objective: [String: Any], loss: [String: Any]) {
        (
            [
                "convolution": "im2col", "rampUpSteps": 0, "translation": 0, "rotation": 0.0, "scaling": 0.0,
                "recalibrationBatches": 0, "teacherDecay": 0.0, "nonnegativeUpperWeights": false
            ],
            ["classBalance": 0.0, "pseudoLabel": 0.0, "pseudoLabelThreshold": 0.95, "pseudoLabelTemperature": 0.0],
            ["classBalance": 0.0, "pseudoLabel": 0.0, "pseudoLabelled": 0, "pseudoLabelledCorrectly": 0]
        )
    }

    /// Keys renamed from version 1 to 2 (the British spellings of the API); the extensions'
    /// keys move as ``extensions(_:objective:)`` says.
    static let versionOneRenames = [
        "normalisation": "normalization", "labelledIndices": "labeledIndices", "labelled": "labeled",
        "pseudoLabelled": "pseudoLabeled", "pseudoLabelledCorrectly": "pseudoLabeledCorrectly"
    ]

    /// Rewrites a checkpoint's JSON object of any earlier version into the current one. Throws
    /// when the format is not a checkpoint's or is newer than this library.
    static func migrate(_ object: inout [String: Any]) throws {
        guard let format = object["format"] as? String, let version = version(of: format) else {
            throw LearningError.invalidData("has no checkpoint format tag (\(String(describing: object["format"])))")
        }
        guard version <= current else {
            throw LearningError.invalidData(
                "has format \(format), newer than this library's \(formatName(version: current))")
        }
        if version == 1 { migrateFromVersionOne(&object) }
        object["format"] = formatName(version: current)
    }

    private static func migrateFromVersionOne(_ object: inout [String: Any]) {
        let defaults = versionOneDefaults
        if var architecture = object["architecture"] as? [String: Any] {
            fill(&architecture, with: ["normalisation": "none"])
            object["architecture"] = renamed(architecture)
        }
        if var configuration = object["configuration"] as? [String: Any] {
            fill(&configuration, with: defaults.configuration)
            var objectives: [String: [String: Any]] = [:]
            for key in ["objective", "pretrainObjective"] {
                if var objective = configuration[key] as? [String: Any] {
                    fill(&objective, with: defaults.objective)
                    objectives[key] = objective
                }
            }
            configuration["extensions"] = extensions(configuration, objective: objectives["objective"] ?? [:])
            for (key, objective) in objectives {
                configuration[key] = objective.filter { !defaults.objective.keys.contains($0.key) }
            }
            object["configuration"] = configuration.filter {
                !defaults.configuration.keys.contains($0.key) || $0.key == "convolution"
                    || $0.key == "nonnegativeUpperWeights"
            }
        }
        if let history = object["history"] as? [[String: Any]] {
            object["history"] = history.map { epoch -> [String: Any] in
                var epoch = epoch
                if var loss = epoch["loss"] as? [String: Any] {
                    fill(&loss, with: defaults.loss)
                    epoch["loss"] = renamed(loss)
                }
                return epoch
            }
        }
        object = renamed(object)
    }

    /// Version 1 kept the techniques beyond the paper beside the core settings and in the
    /// objective; version 2 keeps each in ``TrainingExtensions``, present when it is on (a
    /// nonzero setting in version 1).
    private static func extensions(_ c: [String: Any], objective o: [String: Any]) -> [String: Any] {
        func number(_ d: [String: Any], _ key: String) -> Double { (d[key] as? NSNumber)?.doubleValue ?? 0 }
        var x: [String: Any] = [:]
        if number(o, "classBalance") != 0 { x["classBalance"] = ["weight": o["classBalance"]!] }
        if number(o, "pseudoLabel") != 0 {
            x["pseudoLabels"] = [
                "weight": o["pseudoLabel"]!, "threshold": o["pseudoLabelThreshold"]!,
                "temperature": o["pseudoLabelTemperature"]!
            ]
        }
        if number(c, "translation") != 0 || number(c, "rotation") != 0 || number(c, "scaling") != 0 {
            x["augmentation"] = ["translation": c["translation"]!, "rotation": c["rotation"]!, "scaling": c["scaling"]!]
        }
        if number(c, "rampUpSteps") != 0 { x["rampUp"] = ["steps": c["rampUpSteps"]!] }
        if number(c, "teacherDecay") != 0 { x["meanTeacher"] = ["decay": c["teacherDecay"]!] }
        if number(c, "recalibrationBatches") != 0 { x["recalibration"] = ["batches": c["recalibrationBatches"]!] }
        return x
    }

    private static func fill(_ object: inout [String: Any], with defaults: [String: Any]) {
        for (key, value) in defaults where object[key] == nil { object[key] = value }
    }

    private static func renamed(_ object: [String: Any]) -> [String: Any] {
        // A file holding both spellings of a key keeps the one already in the current spelling.
        var out = object.filter { versionOneRenames[$0.key] == nil }
        for (key, value) in object { if let to = versionOneRenames[key], out[to] == nil { out[to] = value } }
        return out
    }
}
