import Foundation
import NumericalCore

/// A folder of PNG images with one subfolder per class (torchvision's `ImageFolder`
/// convention): classes are the subfolders' names in sorted order, images every `.png` file in
/// them, sorted by name. Every image must have the first image's size; the images are decoded
/// to colour if the first one is colour, to gray otherwise.
public enum ImageFolder {
    /// Reads the folder at `path`.
    public static func read(path: String, limits: ResourceLimits = .standard) throws -> LabeledImages {
        let fm = FileManager.default
        let classes = try subfolders(of: path)
        guard !classes.isEmpty else {
            throw DatasetError.malformed(path: path, reason: "no class subfolders (expected <class>/<image>.png)")
        }
        var pixels: [Float] = [], labels: [Int] = [], shape: [Int]? = nil
        for (label, name) in classes.enumerated() {
            let folder = path + "/" + name
            let files = ((try? fm.contentsOfDirectory(atPath: folder)) ?? [])
                .filter { $0.lowercased().hasSuffix(".png") }.sorted()
            for file in files {
                let filePath = folder + "/" + file
                try limits.limited(path: filePath) {
                    _ = try limits.check(labels.count + 1, limit: \.images, what: "the folder's images")
                }
                let image = try PNGFile.read(path: filePath, channels: shape?[0], limits: limits)
                let imageShape = [image.channels, image.height, image.width]
                if let shape, shape != imageShape {
                    throw DatasetError.malformed(
                        path: filePath, reason: "image is \(imageShape), the folder's first image is \(shape)")
                }
                shape = imageShape
                pixels += image.planes.map { Float($0) / 255 }
                labels.append(label)
            }
        }
        guard let shape else { throw DatasetError.malformed(path: path, reason: "no .png images in its subfolders") }
        return try LabeledImages(shape: shape, pixels: pixels, labels: labels, classNames: classes, source: path)
    }

    /// Writes `images` (values in [0, 1]) as `path/<class>/<index>.png`, one subfolder per
    /// class, named by `classNames` (which must be sorted, as reading sorts them) or by the
    /// label.
    public static func write(_ images: LabeledImages, to path: String) throws {
        let fm = FileManager.default
        if let names = images.classNames, names != names.sorted() {
            throw DatasetError.mismatch(
                "class names \(names) are not in sorted order: the folder would read back with other labels")
        }
        for i in 0..<images.count {
            let label = images.labels[i]
            let name = images.classNames.map { $0[label] } ?? String(label)
            let folder = path + "/" + name
            try fm.createDirectory(atPath: folder, withIntermediateDirectories: true)
            let d = images.imageSize
            let planes = images.pixels[(i * d)..<((i + 1) * d)].map { UInt8((min(max($0, 0), 1) * 255).rounded()) }
            let image = PNGFile.Image(
                channels: images.shape[0], height: images.shape[1], width: images.shape[2], planes: planes)
            let file = folder + "/" + String(format: "%05d.png", i)
            guard fm.createFile(atPath: file, contents: Data(try PNGFile.encode(image))) else {
                throw DatasetError.unreadable(path: file, reason: "cannot write")
            }
        }
    }

    /// The names of the subfolders of `path`, sorted.
    static func subfolders(of path: String) throws -> [String] {
        let fm = FileManager.default
        guard let names = try? fm.contentsOfDirectory(atPath: path) else {
            throw DatasetError.unreadable(path: path, reason: "no such folder, or not readable")
        }
        return names.filter { name in
            var isDirectory: ObjCBool = false
            return !name.hasPrefix(".") && fm.fileExists(atPath: path + "/" + name, isDirectory: &isDirectory)
                && isDirectory.boolValue
        }.sorted()
    }
}
