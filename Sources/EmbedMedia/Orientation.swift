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
        // The source pixel index of output pixel (x, y) is `start + y·rowStep + x·step`: the
        // inverse of each Pillow transpose method, as three integers so the copy loop stays
        // a plain strided walk (orientation 6 is on most phone photos).
        let start: Int, rowStep: Int, step: Int
        switch orientation {
        case .up: (start, rowStep, step) = (0, w, 1)
        case .upMirrored: (start, rowStep, step) = (w - 1, w, -1)
        case .down: (start, rowStep, step) = ((h - 1) * w + w - 1, -w, -1)
        case .downMirrored: (start, rowStep, step) = ((h - 1) * w, -w, 1)
        case .leftMirrored: (start, rowStep, step) = (0, 1, w)
        case .right: (start, rowStep, step) = ((h - 1) * w, 1, -w)
        case .rightMirrored: (start, rowStep, step) = ((h - 1) * w + w - 1, -1, -w)
        case .left: (start, rowStep, step) = (w - 1, -1, w)
        }
        let out = [UInt8](unsafeUninitializedCapacity: pixels.count) { dst, initialized in
            pixels.withUnsafeBufferPointer { src in
                // 32×32 output tiles: a quarter turn reads the source down its columns, and
                // within a tile those 32 source rows stay in cache.
                let tile = 32
                for ty in stride(from: 0, to: oh, by: tile) {
                    for tx in stride(from: 0, to: ow, by: tile) {
                        for y in ty..<min(ty + tile, oh) {
                            var p = start + y * rowStep + tx * step
                            var o = (y * ow + tx) * 3
                            for _ in tx..<min(tx + tile, ow) {
                                let s = p * 3
                                dst[o] = src[s]; dst[o + 1] = src[s + 1]; dst[o + 2] = src[s + 2]
                                o += 3
                                p += step
                            }
                        }
                    }
                }
            }
            initialized = pixels.count
        }
        return RGBImage(width: ow, height: oh, pixels: out)
    }
}
