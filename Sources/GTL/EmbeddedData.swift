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
}
