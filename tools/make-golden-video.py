#!/usr/bin/env python3
"""Golden files for the video path (issue 22): the sampled frames as FFmpeg's command line
decodes them, their CLIP vectors (transformers, PyTorch fp32), the video vector, and the sound
vector of the video's audio track (transformers' Whisper encoder).

    /work/venv-ref/bin/python tools/make-golden-video.py clips [DIR]
        the committed 2-s clips (default Tests/Fixtures/video/clips), made by the ffmpeg commands
        in CLIPS below
    /work/venv-ref/bin/python tools/make-golden-video.py golden [--clip DIR] [--whisper DIR] [--out FILE] [VIDEO...]
        default: the tiny CLIP Tests/Fixtures/clip/clip-tiny-gelu, the tiny Whisper
        Tests/Fixtures/audio/whisper-tiny, python3-imageio's cockatoo.mp4 and realshort.mp4 and the
        committed clips → Tests/Fixtures/video/golden-clip-tiny-gelu.json.
        For a full-size model: --clip models/clip-vit-base-patch32-random --whisper
        models/whisper-base --out /tmp/golden-b32.json (frame vectors are then cut to 8 values).
    /work/venv-ref/bin/python tools/make-golden-video.py frames VIDEO OUTDIR
        the 16 sampled frames as OUTDIR/frame-NN.ppm (P6, rgb24), to look at or diff

Needs ffmpeg and ffprobe (Debian's 5.1), python3-imageio (the two real videos; `dpkg -L
python3-imageio` lists them) and the reference venv (torch, transformers, Pillow; no
torchvision, so transformers uses the Pillow image processor, as tools/make-golden-clip.py
requires). Two threads. About 50 s for the default set (most of it decoding cockatoo.mp4 whole).

The contract this file is the reference of (the video plugin must match it):

  duration   the container's duration: FFmpeg's AVFormatContext.duration, in microseconds
             (AV_TIME_BASE), which is what `ffprobe -show_entries format=duration` prints (as
             seconds with 6 decimals, exact). Not a stream's duration: the format duration is the
             longest stream's end (the audio's, often). start_time is AVFormatContext.start_time.
  timestamps uniform sampling, 16 frames: t_i = floor(duration_us · (2i + 1) / 32) µs for i = 0…15
             (= duration · (i + 0.5) / 16, truncated to a whole microsecond, because FFmpeg's
             `-ss` parses its argument to whole microseconds, truncating), all integer arithmetic.
  frame at t the first frame, in the decoder's output order of a decode from the start of the
             file, whose best_effort_timestamp ≥ R = round(T / tb), with T = start_time_us + t_us
             and tb the video stream's time base (av_rescale_q: nearest, halves away from zero) —
             `seek_pts` below. That is the frame `ffmpeg -ss t -i FILE -frames:v 1 -pix_fmt rgb24`
             selects (FFmpeg shifts every timestamp by round(-T / tb), -ss being relative to
             start_time, and drops the frames whose shifted timestamp is negative). If no frame has
             pts ≥ R (the video ends more than duration/32 before the container: mjpeg.mov, 10 fps,
             2 s, whose last frame starts at 1.9 s and t_15 = 1.9375 s), the last frame
             (`after_last_frame`; `ffmpeg -ss` writes nothing there). The video stream is the one
             av_find_best_stream picks (every file here has one).
             The pixels are the decode-from-start's. `ffmpeg -ss`, which seeks to the keyframe
             before T and decodes from there, gives the same pixels except where the seek loses
             decoder state; such frames have "ss_matches": false:
               cockatoo.mp4 from 3.8 s on: x264 core 142, High 4:4:4 with 8x8dct; libavcodec
                 emulates that old x264 bug only once it has seen the x264 version SEI, which is in
                 the first frame alone. `-x264_build 142` (or decoding the first packet before
                 seeking: the version survives avcodec_flush_buffers) gives the right frames
                 ("ss_with_x264_build_matches": true).
               mpeg4.avi (MPEG-4 with B-frames in AVI: no pts, best-effort timestamps from dts):
                 after a seek the guessed timestamps differ from a decode from the start.
               mjpeg.mov's last timestamp (after the last frame, above).
             The script checks the rule against ffprobe's frame timestamps and a full decode.
  pixels     rgb24 as the CLI converts (`-pix_fmt rgb24 -f rawvideo`): autorotate applied (the
             display matrix; ±90° swaps width and height), no scaling, the colour matrix and range as the stream declares
             (the CLI's auto-inserted scale filter calls sws_setColorspaceDetails with
             sws_getCoefficients(frame colorspace) — BT.601 when unspecified, BT.709 for
             h264-bt709.mp4 — and full range when the frame's color_range is JPEG, as MJPEG's
             yuvj420p is), SWS_BICUBIC (the CLI's default flags; an unscaled yuv→rgb24 conversion).
             Pixel aspect ratio is ignored. bench/video-decode-probe.c does exactly this with the
             libraries and gets the golden's pixels (sha256_rgb24) for every frame that
             "ss_matches", rotation aside.
  vectors    each frame as a Pillow RGB image through the model folder's CLIPImageProcessor (Pillow
             path; the same resize and crop as a still picture), CLIPModel.get_image_features
             (pooler_output), one frame per forward; each frame vector divided by its L2 norm; the
             video vector = the mean of the 16 normalised vectors (float64), divided by its norm.
  sound      the first audio stream decoded to float (`ffmpeg -map 0:a:0 -f f32le`), the channels
             averaged in float32 as EmbedAV's DownMix does ((a + b) · 0.5 for two, the sum / n
             otherwise), resampled to 16 kHz by swresample's soxr engine at precision 20
             (`-af aresample=resampler=soxr:precision=20`, EmbedAV's SoxrResampler; 16-kHz input
             is not resampled), then the audio plugin's vector (docs/audio.md): 30-s windows, the
             last one shorter, WhisperFeatureExtractor, WhisperModel.encoder, the mean of the
             first ceil(samples / 320) (≤ 1500) frames per window, L2-normalised, the mean of the
             windows, L2-normalised. null when the file has no audio stream.

The JSON (format 1):
  {"format": 1, "sampling": {"kind": "uniform", "frames": 16, "timestamps": "floor(duration_us*(2i+1)/32)"},
   "duration_field": "...", "clip_model", "whisper_model", "processor", "projection_dim", "d_model",
   "versions": {...}, "ffmpeg": "ffmpeg -version's first line",
   "frame_vectors": "full" | "first 8 values",
   "videos": [{"file" (repo-relative, or absolute for files outside the repo), "source",
               "sha256", "bytes", "duration_us", "start_time_us",
               "video": {"codec", "width", "height" (coded, before rotation), "rotation" (ffprobe's,
                         degrees, 0 when none), "time_base": [num, den], "frames" (decoded),
                         "x264_build" (from the first SEI, or null)},
               "audio": {"codec", "channels", "sample_rate"} | null,
               "frames": [{"t_us", "seek_pts", "index" (in the decode from the start), "pts"
                           (its best_effort_timestamp, tb units), "width", "height" (after
                           rotation), "sha256_rgb24", "after_last_frame" (only when true),
                           "ss_matches", "ss_with_x264_build_matches" (only when tried), "vector"}],
               "vector": [projection_dim floats],
               "sound": {"samples" (16 kHz), "sha256_f32le" (of the mono 16-kHz float32 samples),
                         "windows", "vector": [d_model floats]} | null}],
   "checks": {"frames_batch_vs_single_cosine_min", "frames_fp32_vs_fp64_cosine_min", ...}}
Vectors are float32 values written with repr (round-trip exact).
"""
import argparse
import hashlib
import importlib.util
import json
import math
import os
import re
import subprocess
import sys

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIX = os.path.join(REPO, 'Tests', 'Fixtures', 'video')
CLIPS_DIR = os.path.join(FIX, 'clips')
IMAGEIO = '/usr/lib/python3/dist-packages/imageio/resources/images'
REAL = [('cockatoo.mp4', 'Debian python3-imageio'), ('realshort.mp4', 'Debian python3-imageio')]
FRAMES = 16
SR = 16000
WINDOW = 30 * SR

# ---- the committed 2-s clips ------------------------------------------------------------------
# testsrc2 (moving shapes and a counter) at 160×90 / 25 fps, so CLIP's resize and crop both
# act (shortest edge 72 → 128×72, crop 64×64 for the tiny model); stereo sound where the
# container takes it: a 440-Hz sine on the left, seeded pink noise on the right (so the
# down-mix matters). Single-threaded encoders and bitexact flags: the bytes are reproducible
# with the same FFmpeg and encoder libraries (Debian 12's), not across versions — hence
# committed (each < 100 kB), with their SHA-256 in the golden JSON.
_V = ['-f', 'lavfi', '-i', 'testsrc2=size=160x90:rate=25:duration=2']
_A = ['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100:duration=2',
      '-f', 'lavfi', '-i', 'anoisesrc=color=pink:sample_rate=44100:amplitude=0.1:duration=2:seed=7',
      '-filter_complex', '[1:a][2:a]amerge=inputs=2[a]', '-map', '0:v', '-map', '[a]']
_EXACT = ['-fflags', '+bitexact', '-flags:v', '+bitexact', '-flags:a', '+bitexact', '-map_metadata', '-1']
CLIPS = [
    # (file, ffmpeg arguments after `ffmpeg -nostdin -v error -y`, what it covers)
    ('h264-aac.mp4', _V + _A + ['-c:v', 'libx264', '-preset', 'medium', '-threads', '1', '-pix_fmt', 'yuv420p',
                                '-c:a', 'aac', '-b:a', '64k'] + _EXACT,
     'H.264 (B-frames) + AAC stereo 44.1 kHz in MP4'),
    ('h264-rotate90.mp4', ['-i', '{clips}/h264-aac.mp4', '-c', 'copy', '-metadata:s:v:0', 'rotate=90'] + _EXACT,
     'the same streams with a 90° display matrix (autorotate: 90×160 frames)'),
    ('h264-bt709.mp4', _V + ['-c:v', 'libx264', '-preset', 'medium', '-threads', '1', '-pix_fmt', 'yuv420p',
                             '-colorspace', 'bt709', '-color_primaries', 'bt709', '-color_trc', 'bt709',
                             '-color_range', 'tv', '-an'] + _EXACT,
     'H.264 tagged BT.709 (as phones and cameras tag HD video): the CLI converts with BT.709 coefficients, no sound'),
    ('hevc.mkv', _V + ['-c:v', 'libx265', '-preset', 'fast', '-x265-params', 'pools=none:frame-threads=1:log-level=error',
                       '-pix_fmt', 'yuv420p', '-an'] + _EXACT,
     'H.265 in Matroska, no sound'),
    ('vp9-opus.webm', _V + _A + ['-c:v', 'libvpx-vp9', '-deadline', 'good', '-cpu-used', '4', '-threads', '1',
                                 '-b:v', '300k', '-c:a', 'libopus', '-b:a', '48k'] + _EXACT,
     'VP9 + Opus stereo 48 kHz in WebM'),
    ('av1.mkv', _V + ['-c:v', 'libaom-av1', '-cpu-used', '8', '-threads', '1', '-row-mt', '0', '-b:v', '200k',
                      '-an'] + _EXACT,
     'AV1 (libaom) in Matroska, no sound'),
    ('mpeg4.avi', _V + ['-c:v', 'mpeg4', '-q:v', '8', '-bf', '2', '-threads', '1', '-an'] + _EXACT,
     'MPEG-4 part 2 with B-frames in AVI (no pts, only dts), no sound'),
    ('mjpeg.mov', ['-f', 'lavfi', '-i', 'testsrc2=size=161x91:rate=10:duration=2'] + _A +
     ['-vf', 'scale=161:91', '-c:v', 'mjpeg', '-q:v', '10', '-pix_fmt', 'yuvj420p', '-threads', '1', '-c:a', 'pcm_u8', '-ar', '8000'] + _EXACT,
     'MJPEG (full-range yuvj420p, odd size 161×91, 10 fps: the last timestamp falls after the last frame) '
     '+ PCM u8 stereo 8 kHz in QuickTime'),
]


def run(cmd, data=None):
    r = subprocess.run(cmd, input=data, capture_output=True)
    if r.returncode != 0:
        sys.exit(f'{" ".join(cmd)}: exit {r.returncode}: {r.stderr.decode(errors="replace")[-2000:]}')
    return r.stdout


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            h.update(chunk)
    return h.hexdigest()


def cmd_clips(folder):
    os.makedirs(folder, exist_ok=True)
    for name, args, what in CLIPS:
        out = os.path.join(folder, name)
        run(['ffmpeg', '-nostdin', '-v', 'error', '-y'] + [a.replace('{clips}', folder) for a in args] + [out])
        print(f'{os.path.relpath(out, REPO)}: {os.path.getsize(out)} bytes, sha256 {sha256_file(out)[:16]}…  ({what})')


# ---- probing and sampling ----------------------------------------------------------------------

def probe(path):
    """ffprobe's format and streams, and the stream FFmpeg's default selection takes."""
    info = json.loads(run(['ffprobe', '-v', 'error', '-show_format', '-show_streams', '-of', 'json', path]))
    fmt = info['format']
    videos = [s for s in info['streams'] if s['codec_type'] == 'video' and not s.get('disposition', {}).get('attached_pic')]
    audios = [s for s in info['streams'] if s['codec_type'] == 'audio']
    if len(videos) != 1:
        sys.exit(f'{path}: {len(videos)} video streams; the golden files use files with one')
    return fmt, videos[0], (audios[0] if audios else None)


def microseconds(text):
    """ffprobe's seconds with 6 decimals → whole microseconds (exact)."""
    return int(round(float(text) * 1_000_000))


def timestamps(duration_us, n=FRAMES):
    return [duration_us * (2 * i + 1) // (2 * n) for i in range(n)]


def seconds_arg(us):
    sign = '-' if us < 0 else ''
    us = abs(us)
    return f'{sign}{us // 1_000_000}.{us % 1_000_000:06d}'


def rescale_near(us, tb_num, tb_den):
    """av_rescale_q(us, AV_TIME_BASE_Q, tb) with AV_ROUND_NEAR_INF (halves away from zero)."""
    num, den = us * tb_den, 1_000_000 * tb_num
    q = (2 * abs(num) + den) // (2 * den)
    return q if num >= 0 else -q


def rotation(stream):
    for sd in stream.get('side_data_list', []):
        if 'rotation' in sd:
            return int(sd['rotation'])
    return int(stream.get('tags', {}).get('rotate', 0))


def output_size(stream):
    w, h = stream['width'], stream['height']
    return (h, w) if abs(rotation(stream)) % 180 == 90 else (w, h)


def frame_at(path, t_us, size, decoder_options=()):
    """`ffmpeg -ss t -i FILE -frames:v 1 -pix_fmt rgb24` as uint8 [h, w, 3]."""
    w, h = size
    raw = run(['ffmpeg', '-nostdin', '-v', 'quiet', *decoder_options, '-ss', seconds_arg(t_us), '-i', path,
               '-frames:v', '1', '-pix_fmt', 'rgb24', '-f', 'rawvideo', '-'])
    if len(raw) == 0:
        return None  # no frame at or after t
    if len(raw) != w * h * 3:
        sys.exit(f'{path}: {len(raw)} bytes at {seconds_arg(t_us)} s; expected {w}×{h}×3')
    return np.frombuffer(raw, np.uint8).reshape(h, w, 3)


def decoded_pts(path):
    """best_effort_timestamp of every frame of the video stream, in decoding output order."""
    return [f.get('best_effort_timestamp') for f in json.loads(run(
        ['ffprobe', '-v', 'error', '-select_streams', 'v:0', '-show_entries', 'frame=best_effort_timestamp',
         '-of', 'json', path]))['frames']]


def decode_from_start(path, size, keep):
    """Every frame of a decode from the start (`ffmpeg -i FILE -pix_fmt rgb24 -f rawvideo -`):
    the count, and the frames whose index is in `keep` as uint8 [h, w, 3]."""
    w, h = size
    p = subprocess.Popen(['ffmpeg', '-nostdin', '-v', 'error', '-i', path, '-map', '0:v:0', '-fps_mode', 'passthrough',
                          '-pix_fmt', 'rgb24', '-f', 'rawvideo', '-'], stdout=subprocess.PIPE)
    kept, n, count = {}, w * h * 3, 0
    while True:
        buf = p.stdout.read(n)
        if not buf:
            break
        assert len(buf) == n, (path, len(buf))
        if count in keep:
            kept[count] = np.frombuffer(buf, np.uint8).reshape(h, w, 3)
        count += 1
    if p.wait() != 0:
        sys.exit(f'{path}: the decode from the start failed')
    return count, kept


def x264_build(path):
    """The x264 version in the stream's first SEI ("x264 - core N"), if any: FFmpeg's H.264
    decoder reads it there and emulates old x264 bugs by it (4:4:4 with 8x8 transforms before
    build 151); a decoder that starts at a later keyframe never sees it."""
    with open(path, 'rb') as f:
        m = re.search(rb'x264 - core (\d+)', f.read(1 << 16))
    return int(m.group(1)) if m else None


def sample(path):
    """The contract's frames of one file: the reference is the decode from the start; each is
    compared with what `ffmpeg -ss t` gives (a seek to the keyframe before t)."""
    fmt, v, a = probe(path)
    duration_us = microseconds(fmt['duration'])
    start_us = microseconds(fmt.get('start_time', '0'))
    tb_num, tb_den = (int(x) for x in v['time_base'].split('/'))
    size = output_size(v)
    pts = decoded_pts(path)
    picks = []
    for t in timestamps(duration_us):
        seek = rescale_near(start_us + t, tb_num, tb_den)
        index = next((i for i, p in enumerate(pts) if p is not None and p >= seek), None)
        picks.append((t, seek, len(pts) - 1 if index is None else index, index is None))
    count, kept = decode_from_start(path, size, {i for _, _, i, _ in picks})
    if count != len(pts):
        sys.exit(f'{path}: ffprobe shows {len(pts)} frames, ffmpeg decodes {count}')
    build = x264_build(path)
    frames, pixels = [], []
    for t, seek, index, after_last in picks:
        rgb = kept[index]
        digest = sha256(rgb.tobytes())
        f = {'t_us': t, 'seek_pts': seek, 'index': index, 'pts': pts[index], 'width': size[0], 'height': size[1],
             'sha256_rgb24': digest}
        if after_last:
            f['after_last_frame'] = True
        ss = frame_at(path, t, size)
        f['ss_matches'] = ss is not None and sha256(ss.tobytes()) == digest
        if not f['ss_matches'] and ss is not None and build is not None:
            again = frame_at(path, t, size, ['-x264_build', str(build)])
            f['ss_with_x264_build_matches'] = again is not None and sha256(again.tobytes()) == digest
        frames.append(f)
        pixels.append(rgb)
    entry = {'duration_us': duration_us, 'start_time_us': start_us,
             'video': {'codec': v['codec_name'], 'width': v['width'], 'height': v['height'], 'rotation': rotation(v),
                       'time_base': [tb_num, tb_den], 'frames': count, 'x264_build': build},
             'audio': ({'codec': a['codec_name'], 'channels': a['channels'], 'sample_rate': int(a['sample_rate'])}
                       if a else None)}
    return entry, frames, pixels


# ---- sound ------------------------------------------------------------------------------------

def sound_samples(path, audio):
    """The first audio stream as 16-kHz mono float32, as EmbedAV makes it (see the docstring)."""
    raw = run(['ffmpeg', '-nostdin', '-v', 'error', '-i', path, '-map', '0:a:0', '-f', 'f32le', '-c:a', 'pcm_f32le', '-'])
    ch = audio['channels']
    x = np.frombuffer(raw, '<f4').reshape(-1, ch)
    if ch == 1:
        mono = x[:, 0].copy()
    elif ch == 2:
        mono = (x[:, 0] + x[:, 1]) * np.float32(0.5)
    else:
        mono = x[:, 0].copy()
        for c in range(1, ch):
            mono += x[:, c]
        mono /= np.float32(ch)
    mono = mono.astype('<f4')
    if audio['sample_rate'] == SR:
        return mono
    out = run(['ffmpeg', '-nostdin', '-v', 'error', '-f', 'f32le', '-ar', str(audio['sample_rate']), '-ac', '1', '-i', '-',
               '-af', f'aresample=resampler=soxr:precision=20:osr={SR}', '-f', 'f32le', '-c:a', 'pcm_f32le', '-'],
              mono.tobytes())
    return np.frombuffer(out, '<f4').copy()


def sound_vector(samples, fe, encoder):
    import torch
    vecs = []
    for start in range(0, max(len(samples), 1), WINDOW):
        chunk = samples[start:start + WINDOW]
        feats = fe(chunk, sampling_rate=SR, return_tensors='np')['input_features'].astype(np.float32)
        with torch.no_grad():
            hidden = encoder(torch.from_numpy(feats)).last_hidden_state[0].numpy()
        frames = min(1500, (len(chunk) + 319) // 320)
        v = hidden[:frames].astype(np.float64).mean(0)
        vecs.append(v / np.linalg.norm(v))
    v = np.mean(vecs, 0)
    return v / np.linalg.norm(v), len(vecs)


# ---- golden ----------------------------------------------------------------------------------

def floats(v):
    return [float(np.float32(x)) for x in v]


def shown(path):
    p = os.path.abspath(path)
    return os.path.relpath(p, REPO) if p.startswith(REPO + os.sep) else p


def default_videos():
    found = []
    for name, src in REAL:
        p = os.path.join(IMAGEIO, name)
        if not os.path.exists(p):
            sys.exit(f'{p} is missing: sudo apt-get install python3-imageio')
        found.append((p, src))
    for name, _, what in CLIPS:
        p = os.path.join(CLIPS_DIR, name)
        if not os.path.exists(p):
            sys.exit(f'{p} is missing: tools/make-golden-video.py clips')
        found.append((p, f'tools/make-golden-video.py clips: {what}'))
    return found


def cmd_golden(a):
    import torch
    import PIL
    import transformers
    from PIL import Image
    from transformers import WhisperFeatureExtractor, WhisperModel
    spec = importlib.util.spec_from_file_location('make_golden_clip', os.path.join(REPO, 'tools', 'make-golden-clip.py'))
    mgc = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mgc)
    model, _, proc = mgc.load(a.clip)  # CLIPModel (eval), the Pillow CLIPImageProcessor; 2 threads
    fe = WhisperFeatureExtractor.from_pretrained(a.whisper)
    encoder = WhisperModel.from_pretrained(a.whisper, dtype=torch.float32).encoder.eval()
    dim = model.config.projection_dim
    full = dim <= 64
    videos = [(p, 'given on the command line') for p in a.videos] if a.videos else default_videos()
    out = {'format': 1,
           'sampling': {'kind': 'uniform', 'frames': FRAMES, 'timestamps': 'floor(duration_us*(2i+1)/32) µs, i = 0..15'},
           'duration_field': 'format.duration: AVFormatContext.duration (µs), as `ffprobe -show_entries format=duration` '
                             'prints it; -ss is relative to format.start_time',
           'clip_model': shown(a.clip), 'whisper_model': shown(a.whisper), 'processor': type(proc).__name__,
           'projection_dim': dim, 'd_model': encoder.config.d_model,
           'versions': {'torch': torch.__version__, 'transformers': transformers.__version__,
                        'pillow': PIL.__version__, 'numpy': np.__version__},
           'ffmpeg': run(['ffmpeg', '-version']).decode().splitlines()[0],
           'frame_vectors': 'full' if full else 'first 8 values',
           'videos': [], 'checks': {}}
    worst_batch, worst_f64 = 1.0, 1.0
    for path, source in videos:
        entry, frames, pixels = sample(path)
        px = np.stack([proc(images=Image.fromarray(p, 'RGB'), return_tensors='np')['pixel_values'][0] for p in pixels])
        px = px.astype(np.float32)
        v1 = mgc.image_features(model, px, 1)          # one frame per forward (float64 copies of fp32 outputs)
        v16 = mgc.image_features(model, px, FRAMES)
        model.double()
        try:
            v64 = mgc.image_features(model, px.astype(np.float64), 1)
        finally:
            model.float()
        worst_batch = min(worst_batch, float(mgc.cosines(v1, v16).min()))
        worst_f64 = min(worst_f64, float(mgc.cosines(v1, v64).min()))
        unit = v1 / np.linalg.norm(v1, axis=1, keepdims=True)
        video = unit.mean(0)
        video /= np.linalg.norm(video)
        for f, u in zip(frames, unit):
            f['vector'] = floats(u if full else u[:8])
        sound = None
        if entry['audio']:
            s = sound_samples(path, entry['audio'])
            sv, windows = sound_vector(s, fe, encoder)
            sound = {'samples': len(s), 'sha256_f32le': sha256(s.astype('<f4').tobytes()), 'windows': windows,
                     'vector': floats(sv)}
        spread = float((unit @ unit.T)[~np.eye(FRAMES, dtype=bool)].mean())
        out['videos'].append(dict({'file': shown(path), 'source': source, 'sha256': sha256_file(path),
                                   'bytes': os.path.getsize(path)}, **entry,
                                  frames=frames, vector=floats(video), sound=sound))
        print(f'{shown(path)}: {entry["duration_us"] / 1e6:.3f} s, {entry["video"]["codec"]} '
              f'{frames[0]["width"]}×{frames[0]["height"]}, frames {[f["index"] for f in frames]} of '
              f'{entry["video"]["frames"]}, mean cosine between frames {spread:.3f}, '
              f'sound {"none" if sound is None else str(sound["windows"]) + " window(s)"}')
    out['checks'] = {'frames_batch_vs_single_cosine_min': worst_batch, 'frames_fp32_vs_fp64_cosine_min': worst_f64}
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    text = json.dumps(out, indent=1, ensure_ascii=False, allow_nan=False)
    # Lists of numbers on one line.
    text = re.sub(r'\[\s+([-0-9.e+]+(?:,\s+[-0-9.e+]+)*)\s+\]', lambda m: '[' + ' '.join(m.group(1).split()) + ']', text)
    with open(a.out, 'w', encoding='utf-8') as f:
        f.write(text + '\n')
    print(f'{shown(a.out)}: {len(out["videos"])} videos, {os.path.getsize(a.out)} bytes; batch 16 vs 1 ≥ {worst_batch:.9f}, '
          f'fp32 vs fp64 ≥ {worst_f64:.9f}')


def cmd_frames(path, folder):
    os.makedirs(folder, exist_ok=True)
    _, frames, pixels = sample(path)
    for i, (f, p) in enumerate(zip(frames, pixels)):
        with open(os.path.join(folder, f'frame-{i:02d}.ppm'), 'wb') as out:
            out.write(f'P6\n{p.shape[1]} {p.shape[0]}\n255\n'.encode() + p.tobytes())
        print(f'frame-{i:02d}.ppm  t {seconds_arg(f["t_us"])} s  index {f["index"]}  pts {f["pts"]}')


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest='cmd', required=True)
    c = sub.add_parser('clips')
    c.add_argument('dir', nargs='?', default=CLIPS_DIR)
    g = sub.add_parser('golden')
    g.add_argument('--clip', default=os.path.join(REPO, 'Tests', 'Fixtures', 'clip', 'clip-tiny-gelu'))
    g.add_argument('--whisper', default=os.path.join(REPO, 'Tests', 'Fixtures', 'audio', 'whisper-tiny'))
    g.add_argument('--out', default=os.path.join(FIX, 'golden-clip-tiny-gelu.json'))
    g.add_argument('videos', nargs='*')
    f = sub.add_parser('frames')
    f.add_argument('video')
    f.add_argument('dir')
    a = ap.parse_args()
    if a.cmd == 'clips':
        cmd_clips(os.path.abspath(a.dir))
    elif a.cmd == 'golden':
        cmd_golden(a)
    else:
        cmd_frames(a.video, a.dir)


if __name__ == '__main__':
    main()
