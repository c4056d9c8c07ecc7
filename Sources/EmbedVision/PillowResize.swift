import EmbedMedia

/// Pillow's `Image.resize(size, resample)` for 8-bit RGB, bit for bit (Pillow 13.0; `box` and
/// `reducing_gap` at their defaults, as `transformers` calls it).
///
/// The filters go through Pillow's two-pass separable resampler (`src/libImaging/Resample.c`):
/// weights scaled by the downscale factor (antialiasing), normalised, rounded to 22-bit fixed
/// point; a horizontal pass over only the input rows the vertical pass will read, each result
/// clipped to 8 bits; then the vertical pass — or the vertical pass first when the height shrinks
/// by more than twice as many pixels as the width (Pillow 13's rule). A pass is skipped when its
/// axis keeps its size.
/// `.nearest` takes Pillow's affine scale path instead (`ImagingScaleAffine`), and an unchanged
/// size is a copy.
///
/// Every output pixel depends only on its own position, so `resize(_:width:height:filter:window:into:)`
/// computes just a window of the resized image (the part a centre crop keeps) with the same
/// values: a 640×480 photo resized to 341×256 and cropped to 224×224 costs a 224×224 resize.
public enum PillowResize {
    /// The resized image, as `image.resize((width, height), filter)` in Pillow.
    /// - Precondition: `width > 0 && height > 0`.
    public static func resize(_ image: RGBImage, width: Int, height: Int, filter: ResamplingFilter) -> RGBImage {
        precondition(width > 0 && height > 0, "PillowResize: empty output \(width)×\(height)")
        var out = [UInt8](repeating: 0, count: width * height * 3)
        out.withUnsafeMutableBufferPointer { dst in
            resize(image, width: width, height: height, filter: filter,
                   window: PixelRect(x: 0, y: 0, width: width, height: height), into: dst.baseAddress!)
        }
        return RGBImage(width: width, height: height, pixels: out)
    }

    /// Writes the pixels of `window` (inside `0..<width × 0..<height`) of the resized image to
    /// `destination`: `window.height` rows of `window.width * 3` bytes, no padding.
    ///
    /// - Complexity: proportional to the window's pixels times the filter's taps, plus the
    ///   input rows the window reads; the full resized image is never allocated.
    public static func resize(_ image: RGBImage, width: Int, height: Int, filter: ResamplingFilter,
                              window: PixelRect, into destination: UnsafeMutablePointer<UInt8>) {
        precondition(width > 0 && height > 0 && window.x >= 0 && window.y >= 0
                     && window.x + window.width <= width && window.y + window.height <= height,
                     "PillowResize: window \(window) outside \(width)×\(height)")
        guard window.width > 0 && window.height > 0 else { return }
        image.pixels.withUnsafeBufferPointer { source in
            let src = source.baseAddress!
            if width == image.width && height == image.height {
                copy(src, rowBytes: image.width * 3, window: window, into: destination)
            } else if filter == .nearest {
                nearest(src, image.width, image.height, width, height, window, destination)
            } else {
                separable(src, image.width, image.height, width, height, filter, window, destination)
            }
        }
    }

    // MARK: - Copy and nearest neighbour

    private static func copy(_ src: UnsafePointer<UInt8>, rowBytes: Int, window: PixelRect,
                             into dst: UnsafeMutablePointer<UInt8>) {
        let n = window.width * 3
        for r in 0..<window.height {
            (dst + r * n).update(from: src + (window.y + r) * rowBytes + window.x * 3, count: n)
        }
    }

    /// Pillow's nearest path: an affine scale whose source coordinate is *accumulated* in double
    /// precision (`xo += a[0]`), not recomputed per pixel, so the sums are replayed the same way.
    private static func nearest(_ src: UnsafePointer<UInt8>, _ inW: Int, _ inH: Int, _ outW: Int, _ outH: Int,
                                _ window: PixelRect, _ dst: UnsafeMutablePointer<UInt8>) {
        let columns = sourceIndices(inSize: inW, outSize: outW, upTo: window.x + window.width)
        let rows = sourceIndices(inSize: inH, outSize: outH, upTo: window.y + window.height)
        let rowBytes = window.width * 3
        for r in 0..<window.height {
            let out = dst + r * rowBytes
            let yi = rows[window.y + r]
            guard yi >= 0 else { out.update(repeating: 0, count: rowBytes); continue }
            let line = src + yi * inW * 3
            for c in 0..<window.width {
                let xi = columns[window.x + c]
                let o = out + c * 3
                if xi >= 0 {
                    let p = line + xi * 3
                    o[0] = p[0]; o[1] = p[1]; o[2] = p[2]
                } else {
                    o[0] = 0; o[1] = 0; o[2] = 0
                }
            }
        }
    }

    /// Source index of each output position below `upTo`, or -1 outside the source (left black).
    private static func sourceIndices(inSize: Int, outSize: Int, upTo: Int) -> [Int] {
        let a = Double(Float(inSize) - Float(0)) / Double(outSize)
        var position = 0.0 + a * 0.5
        var indices = [Int](repeating: -1, count: upTo)
        for i in 0..<upTo {
            let index = position < 0 ? -1 : Int(position)  // Pillow's COORD()
            if index < inSize { indices[i] = index }
            position += a
        }
        return indices
    }

    // MARK: - Separable filters

    private static func separable(_ src: UnsafePointer<UInt8>, _ inW: Int, _ inH: Int, _ outW: Int, _ outH: Int,
                                  _ filter: ResamplingFilter, _ window: PixelRect, _ dst: UnsafeMutablePointer<UInt8>) {
        let columns = window.x..<(window.x + window.width)
        let rows = window.y..<(window.y + window.height)
        let needHorizontal = outW != inW
        let needVertical = outH != inH
        let vertical = needVertical ? ResampleWeights(inputSize: inH, outputSize: outH, outputs: rows, filter: filter) : nil
        // The input rows the vertical pass reads (all of them only when the window is tall).
        let sourceRows = vertical?.inputSpan(of: rows) ?? rows
        let rowBytes = window.width * 3

        if needHorizontal {
            let horizontal = ResampleWeights(inputSize: inW, outputSize: outW, outputs: columns, filter: filter)
            if let vertical, inH > outH, inH - outH > 2 * (inW - outW) {
                // Pillow 13 (python-pillow/Pillow#9549) runs the vertical pass first when the height
                // shrinks by more than twice as many pixels as the width; the 8-bit intermediate
                // then rounds differently, so the order is part of the result.
                let sourceColumns = horizontal.inputSpan(of: columns)
                let tempRowBytes = sourceColumns.count * 3
                var temp = [UInt8](repeating: 0, count: window.height * tempRowBytes)
                temp.withUnsafeMutableBufferPointer { t in
                    verticalPass(src + sourceColumns.lowerBound * 3, rowBytes: inW * 3, firstRow: 0,
                                 weights: vertical, into: t.baseAddress!, width: tempRowBytes)
                    horizontalPass(t.baseAddress!, rowBytes: tempRowBytes, rows: window.height, weights: horizontal,
                                   firstColumn: sourceColumns.lowerBound, into: dst, outRowBytes: rowBytes)
                }
            } else if let vertical {
                var temp = [UInt8](repeating: 0, count: sourceRows.count * rowBytes)
                temp.withUnsafeMutableBufferPointer { t in
                    horizontalPass(src + sourceRows.lowerBound * inW * 3, rowBytes: inW * 3, rows: sourceRows.count,
                                   weights: horizontal, into: t.baseAddress!, outRowBytes: rowBytes)
                    verticalPass(t.baseAddress!, rowBytes: rowBytes, firstRow: sourceRows.lowerBound,
                                 weights: vertical, into: dst)
                }
            } else {
                horizontalPass(src + sourceRows.lowerBound * inW * 3, rowBytes: inW * 3, rows: sourceRows.count,
                               weights: horizontal, into: dst, outRowBytes: rowBytes)
            }
        } else if let vertical {
            // Only the vertical pass: it reads the window's columns straight from the source.
            verticalPass(src + window.x * 3, rowBytes: inW * 3, firstRow: 0, weights: vertical, into: dst,
                         width: rowBytes)
        } else {
            copy(src, rowBytes: inW * 3, window: window, into: dst)
        }
    }

    /// Resamples `rows` rows along x into `outRowBytes`-byte rows, clipping each sum to 8 bits
    /// (Pillow keeps the intermediate image in 8 bits). `src` starts at input column `firstColumn`.
    ///
    /// Done as a vertical pass on a transposed strip of rows: each output column then becomes a
    /// contiguous multiply-add over the strip (vectorised) instead of a short gather per pixel.
    /// The sums are integers, so the order of the additions cannot change a result.
    private static func horizontalPass(_ src: UnsafePointer<UInt8>, rowBytes: Int, rows: Int,
                                       weights: ResampleWeights, firstColumn: Int = 0,
                                       into dst: UnsafeMutablePointer<UInt8>, outRowBytes: Int) {
        let columns = weights.inputSpan(of: weights.outputs)  // input columns read, absolute
        let outputs = weights.outputs.count
        let strip = min(rows, 64)  // rows per strip: the transposed strip stays in L2
        let stripBytes = strip * 3
        let transposed = UnsafeMutablePointer<UInt8>.allocate(capacity: max(columns.count, 1) * stripBytes)
        let resampled = UnsafeMutablePointer<UInt8>.allocate(capacity: outputs * stripBytes)
        defer { transposed.deallocate(); resampled.deallocate() }
        var y0 = 0
        while y0 < rows {
            let n = min(strip, rows - y0)
            // transposed row x (input column columns.lowerBound + x) holds pixel x of rows y0..<y0+n.
            for r in 0..<n {
                let line = src + (y0 + r) * rowBytes + (columns.lowerBound - firstColumn) * 3
                for x in 0..<columns.count {
                    let from = line + x * 3, to = transposed + x * stripBytes + r * 3
                    to[0] = from[0]; to[1] = from[1]; to[2] = from[2]
                }
            }
            verticalPass(transposed, rowBytes: stripBytes, firstRow: columns.lowerBound, weights: weights,
                         into: resampled, width: n * 3, outRowBytes: stripBytes)
            for r in 0..<n {
                let out = dst + (y0 + r) * outRowBytes
                for i in 0..<outputs {
                    let from = resampled + i * stripBytes + r * 3, to = out + i * 3
                    to[0] = from[0]; to[1] = from[1]; to[2] = from[2]
                }
            }
            y0 += n
        }
    }

    /// Resamples along y: output row `i` of `weights` from the source rows it names (row
    /// `firstRow` of the image is at `src`). Each row is `width` bytes (default: `rowBytes`),
    /// written `outRowBytes` apart (default: `width`).
    private static func verticalPass(_ src: UnsafePointer<UInt8>, rowBytes: Int, firstRow: Int,
                                     weights: ResampleWeights, into dst: UnsafeMutablePointer<UInt8>,
                                     width: Int? = nil, outRowBytes: Int? = nil) {
        let n = width ?? rowBytes
        let outStride = outRowBytes ?? n
        let half: Int32 = 1 << (ResampleWeights.precisionBits - 1)
        let shift = Int32(ResampleWeights.precisionBits)
        let stride = weights.stride
        // One accumulator per byte of the row: the tap loop runs outside, so the inner loop is a
        // contiguous multiply-add over the row that the compiler vectorises.
        let acc = UnsafeMutablePointer<Int32>.allocate(capacity: n)
        defer { acc.deallocate() }
        weights.firsts.withUnsafeBufferPointer { firsts in
        weights.counts.withUnsafeBufferPointer { counts in
        weights.weights.withUnsafeBufferPointer { kk in
            for i in 0..<weights.outputs.count {
                acc.update(repeating: half, count: n)
                let k = kk.baseAddress! + i * stride
                let first = Int(firsts[i]) - firstRow
                for t in 0..<Int(counts[i]) {
                    let w = k[t]
                    let line = src + (first + t) * rowBytes
                    for b in 0..<n { acc[b] &+= Int32(line[b]) &* w }
                }
                let out = dst + i * outStride
                for b in 0..<n { out[b] = UInt8(clamping: acc[b] >> shift) }
            }
        }}}
    }
}
