/// A `BatchNorm2d` in inference mode (running statistics), to be folded into the convolution
/// before it so it costs nothing at run time.
struct BatchNorm {
    let gamma: FloatStorage
    let beta: FloatStorage
    let mean: FloatStorage
    let variance: FloatStorage
    let eps: Float

    /// Loads `prefix.{weight,bias,running_mean,running_var}` for `channels` channels.
    init(_ weights: SafeTensorsFile, prefix: String, channels: Int, eps: Float) throws(NNError) {
        gamma = try weights.floats(prefix + ".weight", shape: [channels])
        beta = try weights.floats(prefix + ".bias", shape: [channels])
        mean = try weights.floats(prefix + ".running_mean", shape: [channels])
        variance = try weights.floats(prefix + ".running_var", shape: [channels])
        self.eps = eps
        // A negative variance would fold into NaN weights: refuse it as the broken file it is.
        if let bad = variance.buffer.firstIndex(where: { !($0 >= 0 && $0.isFinite) }) {
            throw NNError.file(weights.path, "tensor '\(prefix).running_var' has the invalid variance \(variance.pointer[bad]) at channel \(bad)")
        }
    }

    /// Folds the normalisation into a bias-free convolution's weights (`[out, in, kh, kw]`,
    /// `perChannel` = in·kh·kw values per output channel) and returns the bias it becomes:
    /// w' = w·γ/√(var+ε), b' = β − mean·γ/√(var+ε). Computed in Double so the folded fp32
    /// weights are the correctly rounded products.
    func fold(_ weight: UnsafePointer<Float>, perChannel: Int) -> (weight: [Float], bias: [Float]) {
        let n = gamma.count
        var w = [Float](repeating: 0, count: n * perChannel)
        var b = [Float](repeating: 0, count: n)
        for o in 0..<n {
            let scale = Double(gamma.pointer[o]) / (Double(variance.pointer[o]) + Double(eps)).squareRoot()
            b[o] = Float(Double(beta.pointer[o]) - Double(mean.pointer[o]) * scale)
            for i in 0..<perChannel {
                w[o * perChannel + i] = Float(Double(weight[o * perChannel + i]) * scale)
            }
        }
        return (w, b)
    }
}
