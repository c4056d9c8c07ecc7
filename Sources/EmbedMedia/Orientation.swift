/// An EXIF orientation (TIFF tag 0x0112): how the stored pixels must be turned to be seen
/// upright. Raw values 1–8; anything else means "leave as stored", as Pillow does.
public enum Orientation: Int, Sendable, CaseIterable {
    /// 1: stored upright.
    case up = 1
    /// 2: mirrored left–right (Pillow `FLIP_LEFT_RIGHT`).
    case upMirrored = 2
    /// 3: upside down (`ROTATE_180`).
    case down = 3
    /// 4: mirrored top–bottom (`FLIP_TOP_BOTTOM`).
    case downMirrored = 4
    /// 5: mirrored along the main diagonal (`TRANSPOSE`).
    case leftMirrored = 5
    /// 6: needs a quarter turn clockwise (`ROTATE_270`, Pillow's angles are counter-clockwise).
    case right = 6
    /// 7: mirrored along the anti-diagonal (`TRANSVERSE`).
    case rightMirrored = 7
    /// 8: needs a quarter turn counter-clockwise (`ROTATE_90`).
    case left = 8

    /// Whether applying it swaps width and height.
    public var swapsAxes: Bool { rawValue >= 5 }
}

extension RGBImage {
    /// The image turned upright the way `ImageOps.exif_transpose` turns it for `orientation`.
    public func applying(_ orientation: Orientation) -> RGBImage {
        if orientation == .up { return self }
        let w = width, h = height
        let ow = orientation.swapsAxes ? h : w
        let oh = orientation.swapsAxes ? w : h
        // For every output pixel (x, y), the source pixel (sx, sy) — the inverse of each
        // Pillow transpose method.
        let source: (Int, Int) -> (Int, Int)
        switch orientation {
        case .up: source = { x, y in (x, y) }
        case .upMirrored: source = { x, y in (w - 1 - x, y) }
        case .down: source = { x, y in (w - 1 - x, h - 1 - y) }
        case .downMirrored: source = { x, y in (x, h - 1 - y) }
        case .leftMirrored: source = { x, y in (y, x) }
        case .right: source = { x, y in (y, h - 1 - x) }
        case .rightMirrored: source = { x, y in (w - 1 - y, h - 1 - x) }
        case .left: source = { x, y in (w - 1 - y, x) }
        }
        let out = [UInt8](unsafeUninitializedCapacity: pixels.count) { dst, initialized in
            pixels.withUnsafeBufferPointer { src in
                var o = 0
                for y in 0..<oh {
                    for x in 0..<ow {
                        let (sx, sy) = source(x, y)
                        let s = (sy * w + sx) * 3
                        dst[o] = src[s]; dst[o + 1] = src[s + 1]; dst[o + 2] = src[s + 2]
                        o += 3
                    }
                }
            }
            initialized = pixels.count
        }
        return RGBImage(width: ow, height: oh, pixels: out)
    }
}
