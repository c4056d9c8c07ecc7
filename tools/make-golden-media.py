#!/usr/bin/env python3
"""Golden files for EmbedMedia's decoders (Tests/Fixtures/media), made with Pillow.

For every test image this script writes (a) the encoded file, made deterministically from a
seed, and (b) `<file>.rgb`: the raw bytes of

    ImageOps.exif_transpose(Image.open(file)).convert("RGB")

which is what the Hugging Face image processors start from. `manifest.txt` lists each file
with its decoded size and how it is compared: `exact`, `jpeg` (libjpeg-turbo versions differ
between Pillow's wheel and Debian: within 1 LSB on at most 0.1 % of pixels) or `png16a`
(16-bit RGBA with translucent pixels: libpng's simplified API premultiplies, see
docs/media.md).

    /work/venv-ref/bin/python tools/make-golden-media.py            # committed fixtures
    /work/venv-ref/bin/python tools/make-golden-media.py --photos bench/data/photos
        # references for the real photos fetched by tools/fetch-test-media (not committed)

Needs Pillow and numpy. The header of manifest.txt records the Pillow, libjpeg-turbo and
libwebp versions that made it.
"""
import argparse
import io
import os
import struct
import sys
import zlib

import warnings

import numpy as np
import PIL
from PIL import Image, ImageOps, features

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(REPO, "Tests", "Fixtures", "media")


def reference(data: bytes) -> Image.Image:
    return ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB")


def versions() -> str:
    return (f"Pillow {PIL.__version__}, libjpeg-turbo {features.version('libjpeg_turbo')}, "
            f"libwebp {features.version('webp')}, zlib {features.version('zlib')}")


# ---- deterministic content ------------------------------------------------------------------

def photo_like(w, h, seed, channels=3):
    """Smooth gradients with edges and mild noise: exercises JPEG's DCT and chroma upsampling
    the way a photo does, while staying small."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    planes = []
    for c in range(channels):
        fx, fy, ph = rng.uniform(0.02, 0.3), rng.uniform(0.02, 0.3), rng.uniform(0, 6.3)
        p = 128 + 90 * np.sin(x * fx + y * fy + ph)
        p += np.where((x // 7 + y // 5 + c) % 3 == 0, 40, -20)  # hard edges
        p += rng.normal(0, 6, (h, w))
        planes.append(np.clip(p, 0, 255))
    return np.stack(planes, -1).round().astype(np.uint8) if channels > 1 else planes[0].round().astype(np.uint8)


# ---- a minimal PNG writer for what Pillow cannot write (16-bit colour, low bit depths, Adam7) ---

def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bytes(width, height, bit_depth, color_type, rows, extra=b"", interlace=False):
    """rows: a list of already packed scanlines (bytes), top to bottom."""
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 1 if interlace else 0)
    if not interlace:
        raw = b"".join(b"\x01" + sub_filter(r, bit_depth, color_type) for r in rows)
    else:
        raw = adam7(width, height, bit_depth, color_type, rows)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + extra
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def bytes_per_pixel(bit_depth, color_type):
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[color_type]
    return max(1, channels * bit_depth // 8)


def sub_filter(row: bytes, bit_depth, color_type) -> bytes:
    """Filter type 1 (Sub), so the decoder's filter distance (bpp) matters."""
    bpp = bytes_per_pixel(bit_depth, color_type)
    return bytes((row[i] - (row[i - bpp] if i >= bpp else 0)) & 0xFF for i in range(len(row)))


def adam7(width, height, bit_depth, color_type, rows):
    assert bit_depth >= 8
    bpp = bytes_per_pixel(bit_depth, color_type)
    out = b""
    for x0, y0, dx, dy in [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]:
        for y in range(y0, height, dy):
            sub = b"".join(rows[y][x * bpp:(x + 1) * bpp] for x in range(x0, width, dx))
            if sub:
                out += b"\x01" + sub_filter(sub, bit_depth, color_type)
    return out


def be16_rows(a):
    return [row.astype(">u2").tobytes() for row in a]


def pack_bits(a, bits):
    rows = []
    for row in a:
        v, n, out = 0, 0, bytearray()
        for s in row:
            v = (v << bits) | int(s)
            n += bits
            if n == 8:
                out.append(v)
                v, n = 0, 0
        if n:
            out.append(v << (8 - n))
        rows.append(bytes(out))
    return rows


def ycck_jpeg(cmyk: np.ndarray) -> bytes:
    """A YCCK JPEG (Adobe transform 2), which Pillow cannot write: TurboJPEG (Debian's
    libturbojpeg0, a dependency of the build) compresses CMYK pixels to YCCK."""
    import ctypes
    tj = ctypes.CDLL("libturbojpeg.so.0")
    tj.tjInitCompress.restype = ctypes.c_void_p
    handle = ctypes.c_void_p(tj.tjInitCompress())
    buf, size = ctypes.POINTER(ctypes.c_ubyte)(), ctypes.c_ulong(0)
    h, w, _ = cmyk.shape
    tjpf_cmyk, tjsamp_420 = 11, 2
    cmyk = np.ascontiguousarray(cmyk)
    if tj.tjCompress2(handle, cmyk.ctypes.data_as(ctypes.c_void_p), w, 0, h, tjpf_cmyk,
                      ctypes.byref(buf), ctypes.byref(size), tjsamp_420, 90, 0) != 0:
        raise RuntimeError("tjCompress2 failed")
    data = bytes(ctypes.string_at(buf, size.value))
    tj.tjFree(buf)
    tj.tjDestroy(handle)
    adobe = data.find(b"\xff\xee")  # APP14: marker, length, "Adobe", 3 shorts, transform
    assert adobe > 0 and data[adobe + 15] == 2, "not YCCK"
    return data


def exif_bytes(orientation):
    e = Image.Exif()
    e[0x0112] = orientation
    return e.tobytes()


# ---- the fixtures ---------------------------------------------------------------------------

def fixtures():
    # Pillow advises RGBA for palette images with byte transparency; the fixture wants a P file.
    warnings.filterwarnings("ignore", message="Palette images with Transparency")
    W, H = 37, 29  # odd sizes: partial JPEG MCUs, PNG rows that are not byte multiples
    rgb = photo_like(W, H, 1)
    grey = photo_like(W, H, 2, channels=1)
    rng = np.random.default_rng(3)
    alpha = rng.integers(0, 256, (H, W), dtype=np.uint8)
    alpha[0, :5] = 0  # fully transparent pixels whose colour must survive
    files = {}

    def save(name, img, fmt, **kw):
        b = io.BytesIO()
        img.save(b, fmt, **kw)
        files[name] = b.getvalue()

    # PNG through Pillow
    save("grey.png", Image.fromarray(grey, "L"), "PNG")
    save("bilevel.png", Image.fromarray(grey, "L").convert("1"), "PNG")
    save("la.png", Image.fromarray(np.stack([grey, alpha], -1), "LA"), "PNG")
    save("rgb.png", Image.fromarray(rgb, "RGB"), "PNG")
    save("rgba.png", Image.fromarray(np.dstack([rgb, alpha]), "RGBA"), "PNG")
    pal = Image.fromarray(rgb, "RGB").quantize(colors=200, dither=Image.Dither.NONE)
    save("palette.png", pal, "PNG")
    save("palette-trns.png", pal, "PNG", transparency=bytes(range(0, 250, 2))[:200])
    pal16 = Image.fromarray(rgb, "RGB").quantize(colors=16, dither=Image.Dither.NONE)
    save("palette-4bit.png", pal16, "PNG", bits=4)
    save("exif6.png", Image.fromarray(rgb, "RGB"), "PNG", exif=exif_bytes(6))
    frames = [Image.fromarray(np.roll(rgb, 5 * k, 1), "RGB") for k in range(3)]
    b = io.BytesIO()
    frames[0].save(b, "PNG", save_all=True, append_images=frames[1:], duration=100)
    files["animated.png"] = b.getvalue()

    # PNG written here: 16-bit, low bit depths, gamma chunks, tRNS, Adam7, out-of-range palette
    rgb16 = np.random.default_rng(4).integers(0, 65536, (H, W, 3), dtype=np.uint16)
    a16 = np.random.default_rng(5).integers(0, 65536, (H, W), dtype=np.uint16)
    grey16 = (grey.astype(np.uint16) * 257)
    grey16[::3] //= 300  # some values below 256: Pillow keeps those, clips the rest to 255
    files["rgb16.png"] = png_bytes(W, H, 16, 2, be16_rows(rgb16))
    files["rgb16-trns.png"] = png_bytes(W, H, 16, 2, be16_rows(rgb16),
                                        extra=chunk(b"tRNS", struct.pack(">HHH", *map(int, rgb16[0, 0]))))
    files["rgba16-opaque.png"] = png_bytes(W, H, 16, 6, be16_rows(np.dstack([rgb16, np.full((H, W), 65535, np.uint16)])))
    a16t = a16.copy()
    a16t[a16t < 4096] = 65535  # translucent but not nearly transparent: see manifest class png16a
    files["rgba16.png"] = png_bytes(W, H, 16, 6, be16_rows(np.dstack([rgb16, a16t])))
    files["grey16.png"] = png_bytes(W, H, 16, 0, be16_rows(grey16))
    files["ga16.png"] = png_bytes(W, H, 16, 4, be16_rows(np.dstack([grey16 * 0 + rgb16[..., 0], a16])))
    files["ga16-interlaced.png"] = png_bytes(W, H, 16, 4, be16_rows(np.dstack([rgb16[..., 1], a16])), interlace=True)
    files["rgb-interlaced.png"] = png_bytes(W, H, 8, 2, [r.tobytes() for r in rgb], interlace=True)
    files["grey2.png"] = png_bytes(W, H, 2, 0, pack_bits(grey >> 6, 2))
    files["grey4.png"] = png_bytes(W, H, 4, 0, pack_bits(grey >> 4, 4))
    files["grey-trns.png"] = png_bytes(W, H, 8, 0, [r.tobytes() for r in grey], extra=chunk(b"tRNS", struct.pack(">H", int(grey[0, 0]))))
    gamma = chunk(b"gAMA", struct.pack(">I", 100000)) + chunk(b"cHRM", struct.pack(">8I", 31270, 32900, 64000, 33000, 30000, 60000, 15000, 6000))
    files["gamma1.png"] = png_bytes(W, H, 8, 2, [r.tobytes() for r in rgb], extra=gamma)
    files["gamma1-16.png"] = png_bytes(W, H, 16, 2, be16_rows(rgb16), extra=gamma)
    files["srgb.png"] = png_bytes(W, H, 8, 6, [r.tobytes() for r in np.dstack([rgb, alpha])], extra=chunk(b"sRGB", b"\x00"))
    idx = (np.arange(W * H).reshape(H, W) % 256).astype(np.uint8)  # indices past the 10 entries
    files["palette-short.png"] = png_bytes(W, H, 8, 3, [r.tobytes() for r in idx],
                                           extra=chunk(b"PLTE", bytes(range(30))))
    exif_after = chunk(b"eXIf", exif_bytes(8)[6:] if exif_bytes(8).startswith(b"Exif") else exif_bytes(8))
    p = png_bytes(W, H, 8, 2, [r.tobytes() for r in rgb])
    files["exif8-after-idat.png"] = p[:-12] + exif_after + p[-12:]
    xmp = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
           b'<rdf:Description xmlns:tiff="http://ns.adobe.com/tiff/1.0/" tiff:Orientation="3"/></rdf:RDF></x:xmpmeta>')
    files["xmp3.png"] = png_bytes(W, H, 8, 2, [r.tobytes() for r in rgb],
                                  extra=chunk(b"iTXt", b"XML:com.adobe.xmp\x00\x00\x00\x00\x00" + xmp))

    # JPEG
    im = Image.fromarray(rgb, "RGB")
    save("q90-420.jpg", im, "JPEG", quality=90)
    save("q75-444.jpg", im, "JPEG", quality=75, subsampling=0)
    save("q85-422.jpg", im, "JPEG", quality=85, subsampling=1)
    save("progressive.jpg", im, "JPEG", quality=80, progressive=True)
    save("grey.jpg", Image.fromarray(grey, "L"), "JPEG", quality=90)
    cmyk = Image.fromarray(np.dstack([rgb, grey]), "CMYK")
    save("cmyk.jpg", cmyk, "JPEG", quality=90)
    files["ycck.jpg"] = ycck_jpeg(np.dstack([rgb, grey]))
    for k in range(1, 9):
        save(f"exif{k}.jpg", im, "JPEG", quality=90, exif=exif_bytes(k))
    save("xmp6.jpg", im, "JPEG", quality=90, xmp=xmp.replace(b'"3"', b'"6"'))
    save("1x1.jpg", Image.new("RGB", (1, 1), (200, 30, 90)), "JPEG", quality=95)
    wide = photo_like(10000, 3, 6)
    save("10000x3.png", Image.fromarray(wide, "RGB"), "PNG")
    save("10000x3.jpg", Image.fromarray(wide, "RGB"), "JPEG", quality=90)

    # WebP
    save("lossless.webp", im, "WEBP", lossless=True)
    save("lossy.webp", im, "WEBP", quality=80)
    save("lossy-alpha.webp", Image.fromarray(np.dstack([rgb, alpha]), "RGBA"), "WEBP", quality=80)
    save("lossless-alpha.webp", Image.fromarray(np.dstack([rgb, alpha]), "RGBA"), "WEBP", lossless=True, exact=True)
    save("exif6.webp", im, "WEBP", quality=80, exif=exif_bytes(6))
    b = io.BytesIO()
    frames[0].save(b, "WEBP", save_all=True, append_images=frames[1:], duration=100, quality=80)
    files["animated.webp"] = b.getvalue()
    # An animation whose first frame covers only part of the canvas: the rest is transparent black.
    small = [Image.new("RGBA", (W, H), (0, 0, 0, 0)) for _ in range(2)]
    small[0].paste(Image.fromarray(rgb[5:20, 3:30], "RGB"), (3, 5))
    small[1].paste(Image.fromarray(rgb, "RGB"), (0, 0))
    b = io.BytesIO()
    small[0].save(b, "WEBP", save_all=True, append_images=small[1:], duration=50, lossless=True)
    files["animated-partial.webp"] = b.getvalue()
    save("1x1.png", Image.new("RGB", (1, 1), (1, 2, 3)), "PNG")
    save("1x1.webp", Image.new("RGB", (1, 1), (250, 128, 7)), "WEBP", lossless=True)
    return files


def compare_class(name: str) -> str:
    if name.endswith(".jpg"):
        return "jpeg"
    if name == "rgba16.png":
        return "png16a"
    return "exact"


def write_fixtures():
    os.makedirs(OUT, exist_ok=True)
    lines = [f"# made by tools/make-golden-media.py with {versions()}",
             "# file width height compare (exact | jpeg: within 1 LSB on <= 0.1 % of pixels | png16a: see docs/media.md)"]
    total = 0
    for name, data in sorted(fixtures().items()):
        ref = reference(data)
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
        with open(os.path.join(OUT, name + ".rgb"), "wb") as f:
            f.write(ref.tobytes())
        total += len(data) + len(ref.tobytes())
        lines.append(f"{name} {ref.width} {ref.height} {compare_class(name)}")
    with open(os.path.join(OUT, "manifest.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"{len(lines) - 2} fixtures, {total} bytes in {OUT}; {versions()}")


def write_photo_references(folder):
    """References for every JPEG/PNG/WebP under `folder` into `folder`/golden/ (not committed)."""
    golden = os.path.join(folder, "golden")
    os.makedirs(golden, exist_ok=True)
    lines = [f"# made by tools/make-golden-media.py --photos with {versions()}"]
    for root, _, names in sorted(os.walk(folder)):
        if root.startswith(golden):
            continue
        for n in sorted(names):
            if not n.lower().endswith((".jpg", ".jpeg", ".png", ".webp")):
                continue
            path = os.path.join(root, n)
            rel = os.path.relpath(path, folder)
            try:
                ref = reference(open(path, "rb").read())
            except Exception as e:  # Pillow refuses it: the Swift test expects an error too
                lines.append(f"{rel} error {type(e).__name__}")
                continue
            out = rel.replace("/", "__") + ".rgb"
            with open(os.path.join(golden, out), "wb") as f:
                f.write(ref.tobytes())
            lines.append(f"{rel} {ref.width} {ref.height} {'jpeg' if n.lower().endswith(('.jpg', '.jpeg')) else 'exact'} {out}")
    with open(os.path.join(golden, "manifest.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"{len(lines) - 1} photo references in {golden}; {versions()}")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--photos", help="write references for the real photos in this folder instead")
    args = ap.parse_args()
    if args.photos:
        write_photo_references(args.photos)
    else:
        write_fixtures()
