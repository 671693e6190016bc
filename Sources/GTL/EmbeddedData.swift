import Foundation

/// Data that ships inside the package, so the embedded default needs no network.
///
/// `digits.csv.gz` is scikit-learn's copy of the UCI "Optical Recognition of Handwritten Digits"
/// test set (E. Alpaydin, C. Kaynak, 1998; UCI Machine Learning Repository, CC BY 4.0):
/// 1,797 8x8 images with pixel values 0...16 and a trailing label column 0...9.
public enum EmbeddedData {
    /// Path of the bundled digits file (gzipped CSV, 64 pixel columns then the label).
    public static var digitsURL: URL? {
        Bundle.module.url(forResource: "digits.csv", withExtension: "gz", subdirectory: "Resources")
            ?? Bundle.module.url(forResource: "digits.csv", withExtension: "gz")
    }

    /// The bundled digits as a ready-to-train `Dataset`: 1,797 samples of shape `[1, 8, 8]`,
    /// pixels scaled by 1/16 into [0, 1], 10 classes named "0"..."9", name "digits".
    ///
    /// It is the default data set because it needs no download and is small enough for tests and
    /// quick runs, while still being a real image classification task. Throws only if the bundle
    /// is missing or damaged (a packaging error), with a `DataError` naming the file.
    public static func digits() throws -> Dataset {
        guard let url = digitsURL else {
            throw DataError(file: "digits.csv.gz", problem: "not found in the GTL resource bundle (broken installation?)")
        }
        let bytes = try Gzip.gunzipIfNeeded(readFileBytes(url, source: "digits.csv.gz"), source: "digits.csv.gz")
        return try CSV.parse(bytes, source: "digits.csv", labelColumn: -1, hasHeader: false, featureShape: [1, 8, 8],
                             scale: 1.0 / 16, classCount: 10, classNames: (0..<10).map(String.init), name: "digits")
    }
}
