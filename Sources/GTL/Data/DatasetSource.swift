import Foundation

/// Where a data set comes from, parsed from the short spec a user types on the command line
/// (`--data digits`, `--data fashion-mnist`, `--data idx:IMAGES,LABELS`, `--data csv:PATH`,
/// `--data tu:DIR/NAME`).
///
/// Parsing is separate from loading so a bad spec is rejected before any work starts, and so the
/// resolved source can be logged or sent to cluster workers, which then load it themselves.
public enum DatasetSource: Sendable, Equatable {
    /// The small digits set bundled with the package (no download needed).
    case digits
    /// Fashion-MNIST from Debian's `dataset-fashion-mnist` package (or the same files elsewhere);
    /// `test` selects the 10,000-image test split instead of the 60,000-image training split.
    case fashionMNIST(directory: URL, test: Bool)
    /// Any IDX image/label file pair (MNIST and look-alikes).
    case idx(images: URL, labels: URL)
    /// A numeric CSV file with the label in the last column.
    case csv(URL)
    /// A TU-format graph set: files `NAME_A.txt`, `NAME_graph_indicator.txt`, … in `directory`,
    /// loaded as packed graphs for `graphconv` models (see `TUDataset`).
    case tu(directory: URL, name: String)

    /// Where Debian's `dataset-fashion-mnist` installs its files.
    public static let defaultFashionMNISTDirectory = URL(fileURLWithPath: "/usr/share/datasets/fashion-mnist")

    /// Fashion-MNIST's class names, in label order, so reports show "Sneaker" instead of "7".
    public static let fashionMNISTClassNames = [
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ]

    /// The spec forms accepted, for help texts and error messages.
    public static let acceptedForms =
        "digits | fashion-mnist | fashion-mnist:test | idx:IMAGES,LABELS | csv:PATH | tu:DIR/NAME"

    /// Parses a spec. `fashionMNISTDirectory` lets tests and unusual installs point elsewhere.
    /// Throws a `DataError` listing the accepted forms for anything unrecognised.
    public init(spec: String, fashionMNISTDirectory: URL = DatasetSource.defaultFashionMNISTDirectory) throws {
        func bad(_ problem: String) -> DataError { DataError(file: "dataset spec \"\(spec)\"", problem: problem) }
        switch spec {
        case "digits":
            self = .digits
        case "fashion-mnist", "fashion-mnist:train":
            self = .fashionMNIST(directory: fashionMNISTDirectory, test: false)
        case "fashion-mnist:test":
            self = .fashionMNIST(directory: fashionMNISTDirectory, test: true)
        default:
            if spec.hasPrefix("idx:") {
                let paths = spec.dropFirst(4).split(separator: ",", omittingEmptySubsequences: false)
                guard paths.count == 2, !paths[0].isEmpty, !paths[1].isEmpty else {
                    throw bad("expected idx:IMAGES,LABELS (two paths separated by a comma)")
                }
                self = .idx(images: URL(fileURLWithPath: String(paths[0])), labels: URL(fileURLWithPath: String(paths[1])))
            } else if spec.hasPrefix("csv:") {
                let path = spec.dropFirst(4)
                guard !path.isEmpty else { throw bad("expected csv:PATH") }
                self = .csv(URL(fileURLWithPath: String(path)))
            } else if spec.hasPrefix("tu:") {
                let prefix = URL(fileURLWithPath: String(spec.dropFirst(3)))
                guard spec.count > 3, !spec.hasSuffix("/"), !prefix.lastPathComponent.isEmpty else {
                    throw bad("expected tu:DIR/NAME, e.g. tu:/usr/local/share/gtl/tu/MUTAG/MUTAG")
                }
                self = .tu(directory: prefix.deletingLastPathComponent(), name: prefix.lastPathComponent)
            } else {
                throw bad("unknown data set; accepted forms: \(DatasetSource.acceptedForms)")
            }
        }
    }

    /// Parses and loads in one step: what a command-line flag handler wants.
    public static func load(spec: String) throws -> Dataset {
        try DatasetSource(spec: spec).load()
    }

    /// Loads the data set. For Fashion-MNIST, missing files produce an error telling the user to
    /// run `scripts/fetch-data.sh` rather than a bare "no such file".
    public func load() throws -> Dataset {
        switch self {
        case .digits:
            return try EmbeddedData.digits()
        case let .fashionMNIST(directory, test):
            let prefix = test ? "t10k" : "train"
            let images = directory.appendingPathComponent("\(prefix)-images-idx3-ubyte.gz")
            let labels = directory.appendingPathComponent("\(prefix)-labels-idx1-ubyte.gz")
            for file in [images, labels] where !FileManager.default.fileExists(atPath: file.path) {
                throw DataError(file: file.path, problem: "Fashion-MNIST is not installed; run scripts/fetch-data.sh "
                                + "(it installs Debian's dataset-fashion-mnist package)")
            }
            return try IDX.load(images: images, labels: labels, name: test ? "fashion-mnist-test" : "fashion-mnist",
                                classCount: 10, classNames: DatasetSource.fashionMNISTClassNames)
        case let .idx(images, labels):
            return try IDX.load(images: images, labels: labels,
                                name: images.deletingPathExtension().lastPathComponent)
        case let .csv(url):
            return try CSV.load(url: url)
        case let .tu(directory, name):
            let indicator = directory.appendingPathComponent("\(name)_graph_indicator.txt")
            guard FileManager.default.fileExists(atPath: indicator.path) else {
                throw DataError(file: indicator.path, problem: "no such file; TU sets from grakel's wheel are "
                                + "installed by scripts/fetch-data.sh (it prints their tu: specs)")
            }
            return try TUDataset.load(directory: directory, name: name)
        }
    }
}
