import GTLEngine

/// The denoising-autoencoder objective's networks. Pre-training and scouts train an autoencoder
/// whose encoder is the classifier's body (every layer but the head) and whose decoder is one
/// linear layer back to the input width; downstream, the classifier reuses the encoder's weights
/// and a fresh head. Parameters are matched by name and shape, so the encoder's tensors keep their
/// names (`0.weight`, …) in both networks and the decoder, which shares the head's name but not its
/// shape, is never mistaken for it.
public enum Autoencoder {
    /// The autoencoder for `classifier`: its layers with the last one (the head, a dense layer)
    /// replaced by a linear `dense(inputWidth)` decoder. Graph layers have no per-sample input to
    /// reconstruct (a packed graph is its adjacency and features), so they are refused.
    public static func spec(classifier: NetworkSpec) throws -> NetworkSpec {
        guard case .dense? = classifier.layers.last else {
            throw GTLError("--objective denoise needs a model whose last layer is the dense head, got \(classifier)")
        }
        if classifier.layers.contains(where: { if case .graphConv = $0 { return true }; if case .readout = $0 { return true }; return false }) {
            throw GTLError("--objective denoise does not apply to graph layers (a packed graph is not a sample to reconstruct): \(classifier)")
        }
        var layers = classifier.layers
        layers[layers.count - 1] = .dense(outputs: classifier.inputShape.reduce(1, *))
        return NetworkSpec(inputShape: classifier.inputShape, layers: layers)
    }

    /// The downstream base: `fresh` (the classifier as initialised from the job seed) with every
    /// tensor that `autoencoder` has under the same name and shape copied from it — the encoder.
    public static func classifier(from autoencoder: Network, fresh: Network) throws -> Network {
        var network = fresh
        try network.setParameters(overlay(autoencoder.parameters, autoencoder.layout, onto: fresh.parameters, fresh.layout))
        return network
    }

    /// Guide values for the classifier from guide values over the autoencoder: the encoder's are
    /// copied; tensors the scouts never trained (the fresh head) get 1, so guidance neither slows
    /// nor freezes them — nothing was learnt about how they should move.
    public static func classifierGuide(_ guide: [Float], autoencoder: ParameterLayout, classifier: ParameterLayout) -> [Float] {
        precondition(guide.count == autoencoder.totalCount, "\(guide.count) guide values for \(autoencoder.totalCount) parameters")
        return overlay(guide, autoencoder, onto: [Float](repeating: 1, count: classifier.totalCount), classifier)
    }

    /// `target` with every tensor that `source` has under the same name and shape copied in.
    private static func overlay(_ source: [Float], _ sourceLayout: ParameterLayout,
                                onto target: [Float], _ targetLayout: ParameterLayout) -> [Float] {
        var out = target
        for s in targetLayout.specs {
            guard let from = sourceLayout.spec(named: s.name), from.shape == s.shape else { continue }
            out.replaceSubrange(s.range, with: source[from.range])
        }
        return out
    }
}
