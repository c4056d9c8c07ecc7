#!/usr/bin/env python3
"""The parts of bench/video (issue 22): seconds of video embedded per second of wall time at the
default sampling (16 frames, uniform), embedd against a Python pipeline doing the same work.

    video_bench.py data DIR                 make the test files (once; kept): ten 60-s clips and a 1-hour file
    video_bench.py python --clip DIR --whisper DIR [--vectors DIR] FILE...
                                            the Python pipeline, one file at a time
    video_bench.py embedd --socket PATH --collection NAME --model NAME [--vectors DIR] FILE...
                                            the daemon, one Upsert per file (the file passed as a descriptor)
    video_bench.py report OUT.jsonl [DAEMON_LOG...]
                                            the tables (the best round per engine and file); a daemon
                                            log line with "key=K … decode_s=X … total_s=Y" (if the
                                            video plugin writes one) gives the decode share directly

Every engine prints one JSON line per file: {"engine", "file", "seconds" (the container's
duration), "wall_s", ...stage times}. Models are loaded and one warm-up file is embedded before
the clock starts; files go one at a time, in the order given.

The Python pipeline is what a user would write with the ffmpeg command line and transformers:
  duration   `ffprobe -show_entries format=duration` (the same field as the contract,
             tools/make-golden-video.py), frame size from the video stream
  frames     t_i = duration · (i + 0.5) / 16 (to the µs, as the contract), one `ffmpeg -ss t -i FILE
             -frames:v 1 -pix_fmt rgb24 -f image2pipe -c:v ppm -` per frame (PPM: rgb24 with its size) (input seeking: FFmpeg jumps to
             the keyframe before t and decodes from there; a `select` filter would decode the
             whole file), 16 subprocesses one after the other, frames as Pillow images
  CLIP       CLIPProcessor's image processor on the 16 frames, CLIPModel.get_image_features in one
             batch of 16, torch.inference_mode; each vector L2-normalised, the mean, normalised
  sound      `ffmpeg -i FILE -vn -ac 1 -ar 16000 -f f32le -` (openai-whisper's load_audio, float),
             30-s windows, WhisperFeatureExtractor, WhisperModel.encoder in batches of up to 8
             windows, the mean of the ceil(samples / 320) frames covering real audio per window,
             normalised, the mean of the windows, normalised (as the audio plugin pools)
  threads    torch.set_num_threads(BENCH_THREADS, default 2); ffmpeg's own (automatic) threads
Stage times: frames_s (the 16 ffmpeg calls + ffprobe), clip_s (processor + forward),
audio_decode_s, whisper_s (features + encoder + pooling).

embedd: Client.upsert(COLLECTION, KEY, embedd.File(path, send_fd=True)) into a collection bound to
the CLIP model (the daemon routes the video to the video model, which stores the sound vector in
COLLECTION.sound); wall_s is the call. With --vectors both engines save their vectors
(KEY.video.npy, KEY.sound.npy) and embedd's run prints the cosines with the Python pipeline's.
"""
import argparse
import io
import json
import math
import os
import re
import subprocess
import sys
import time

import numpy as np

THREADS = int(os.environ.get('BENCH_THREADS', '2'))
FRAMES = 16
SR = 16000
WINDOW = 30 * SR
MIMES = {'.mp4': 'video/mp4', '.m4v': 'video/mp4', '.mov': 'video/quicktime', '.mkv': 'video/x-matroska',
         '.webm': 'video/webm', '.avi': 'video/x-msvideo'}

# ---- test files ------------------------------------------------------------------------------

CLIP_SECONDS = 60


def clip_spec(i):
    """Clip i of ten: 720p30 (even i) or 1080p25 (odd i); x264's default GOP (keyint 250:
    8–10 s) for i < 5, a 1-s GOP (as phones record) for i ≥ 5. testsrc2 (moving shapes) with
    temporal noise (noise=alls=6: ~6.6 Mbit/s at 1080p, a camera-like bitrate), x264 veryfast
    CRF 23, AAC 128 kbit/s stereo 48 kHz: a sine on the left, pink noise on the right."""
    w, h, fps = (1280, 720, 30) if i % 2 == 0 else (1920, 1080, 25)
    gop = 'default' if i < 5 else '1s'
    return {'name': f'clip-{i:02d}-{h}p{fps}-gop{gop}.mp4', 'width': w, 'height': h, 'fps': fps, 'gop': gop,
            'tone': 220 + 55 * i, 'seed': 100 + i}


def encode(out, w, h, fps, seconds, tone, seed, gop, noise=True):
    vf = 'noise=alls=6:allf=t' if noise else 'null'
    cmd = ['ffmpeg', '-nostdin', '-v', 'error', '-y',
           '-f', 'lavfi', '-i', f'testsrc2=size={w}x{h}:rate={fps}:duration={seconds}',
           '-f', 'lavfi', '-i', f'sine=frequency={tone}:sample_rate=48000:duration={seconds}',
           '-f', 'lavfi', '-i', f'anoisesrc=color=pink:sample_rate=48000:amplitude=0.05:duration={seconds}:seed={seed}',
           '-filter_complex', f'[0:v]{vf}[v];[1:a][2:a]amerge=inputs=2[a]', '-map', '[v]', '-map', '[a]',
           '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '23', '-pix_fmt', 'yuv420p']
    if gop == '1s':
        cmd += ['-g', str(fps)]
    cmd += ['-c:a', 'aac', '-b:a', '128k', out + '.part.mp4']
    subprocess.run(cmd, check=True)
    os.replace(out + '.part.mp4', out)
    return ' '.join(cmd)


def cmd_data(folder):
    """Makes what is missing in `folder`; prints the file list (one per line) last."""
    os.makedirs(folder, exist_ok=True)
    manifest_path = os.path.join(folder, 'MANIFEST.json')
    manifest = json.load(open(manifest_path)) if os.path.exists(manifest_path) else {}
    todo = [('warmup.mp4', dict(w=320, h=180, fps=25, seconds=2, tone=440, seed=1, gop='default'))]
    todo += [(s['name'], dict(w=s['width'], h=s['height'], fps=s['fps'], seconds=CLIP_SECONDS, tone=s['tone'],
                              seed=s['seed'], gop=s['gop'])) for s in map(clip_spec, range(10))]
    for name, spec in todo:
        out = os.path.join(folder, name)
        if os.path.exists(out):
            continue
        t0 = time.time()
        print(f'making {name}…', file=sys.stderr, flush=True)
        manifest[name] = {'command': encode(out, **spec), 'bytes': os.path.getsize(out), 'encode_s': round(time.time() - t0, 1)}
        json.dump(manifest, open(manifest_path, 'w'), indent=1)
    # The hour: 60 s of 1080p25 encoded once (same settings as the 1080p clips, default GOP),
    # then looped 60 times without re-encoding (-stream_loop 59 -c copy): ~3 GB, MP4 with the
    # index (moov) at the end, as ffmpeg and cameras write it.
    hour = os.path.join(folder, 'hour-1080p25.mp4')
    if not os.path.exists(hour):
        base = os.path.join(folder, 'hour-base-60s.mp4')
        if not os.path.exists(base):
            print('making hour-base-60s.mp4…', file=sys.stderr, flush=True)
            manifest['hour-base-60s.mp4'] = {'command': encode(base, 1920, 1080, 25, 60, 330, 99, 'default')}
        print('making hour-1080p25.mp4 (-stream_loop 59 -c copy)…', file=sys.stderr, flush=True)
        cmd = ['ffmpeg', '-nostdin', '-v', 'error', '-y', '-stream_loop', '59', '-i', base, '-c', 'copy', hour + '.part.mp4']
        subprocess.run(cmd, check=True)
        os.replace(hour + '.part.mp4', hour)
        manifest['hour-1080p25.mp4'] = {'command': ' '.join(cmd), 'bytes': os.path.getsize(hour)}
        os.remove(base)
        json.dump(manifest, open(manifest_path, 'w'), indent=1)


# ---- the Python pipeline -----------------------------------------------------------------------

def probe(path):
    info = json.loads(subprocess.run(['ffprobe', '-v', 'error', '-show_entries', 'format=duration:stream=codec_type,width,height',
                                      '-of', 'json', path], capture_output=True, check=True).stdout)
    v = next(s for s in info['streams'] if s['codec_type'] == 'video')
    return float(info['format'].get('duration', 0)), v['width'], v['height'], any(s['codec_type'] == 'audio' for s in info['streams'])


def python_frames(path):
    from PIL import Image
    duration, _, _, has_audio = probe(path)
    us = int(round(duration * 1e6))
    images = []
    for i in range(FRAMES):
        t = us * (2 * i + 1) // (2 * FRAMES)
        raw = subprocess.run(['ffmpeg', '-nostdin', '-v', 'error', '-ss', f'{t // 1_000_000}.{t % 1_000_000:06d}', '-i', path,
                              '-frames:v', '1', '-pix_fmt', 'rgb24', '-f', 'image2pipe', '-c:v', 'ppm', '-'],
                             capture_output=True, check=True).stdout
        if not raw:  # no frame at or after t: the video ended before the container
            images.append(images[-1])
            continue
        images.append(Image.open(io.BytesIO(raw)).convert('RGB'))  # PPM: the size after autorotation
    return duration, images, has_audio


def cmd_python(a):
    import torch
    from transformers import CLIPModel, CLIPProcessor, WhisperFeatureExtractor, WhisperModel
    torch.set_num_threads(THREADS)
    clip = CLIPModel.from_pretrained(a.clip).eval()
    proc = CLIPProcessor.from_pretrained(a.clip)
    fe = WhisperFeatureExtractor.from_pretrained(a.whisper)
    enc = WhisperModel.from_pretrained(a.whisper).encoder.eval()

    def l2(v):
        return v / np.linalg.norm(v, axis=-1, keepdims=True)

    def one(path):
        t0 = time.perf_counter()
        duration, images, has_audio = python_frames(path)
        t1 = time.perf_counter()
        with torch.inference_mode():
            px = proc(images=images, return_tensors='pt')
            feats = clip.get_image_features(pixel_values=px['pixel_values']).pooler_output.numpy()
        video = l2(l2(feats.astype(np.float64)).mean(0))
        t2 = time.perf_counter()
        sound, t3 = None, t2
        if has_audio:
            pcm = np.frombuffer(subprocess.run(['ffmpeg', '-nostdin', '-v', 'error', '-i', path, '-vn', '-ac', '1', '-ar', str(SR),
                                                '-f', 'f32le', '-'], capture_output=True, check=True).stdout, '<f4')
            t3 = time.perf_counter()
            windows = [pcm[s:s + WINDOW] for s in range(0, max(len(pcm), 1), WINDOW)]
            pooled = []
            for b in range(0, len(windows), 8):
                chunk = windows[b:b + 8]
                x = fe(chunk, sampling_rate=SR, return_tensors='pt')['input_features']
                with torch.inference_mode():
                    hidden = enc(x).last_hidden_state.numpy()
                for k, w in enumerate(chunk):
                    n = min(1500, max(1, math.ceil(len(w) / 320)))
                    pooled.append(l2(hidden[k, :n].astype(np.float64).mean(0)))
            sound = l2(np.mean(pooled, 0))
        t4 = time.perf_counter()
        return duration, video, sound, {'frames_s': t1 - t0, 'clip_s': t2 - t1, 'audio_decode_s': t3 - t2, 'whisper_s': t4 - t3}

    one(a.warmup) if a.warmup else None
    for path in a.files:
        t0 = time.perf_counter()
        duration, video, sound, stages = one(path)
        wall = time.perf_counter() - t0
        save(a.vectors, path, video, sound)
        print(json.dumps(dict({'engine': 'python', 'file': os.path.basename(path), 'seconds': duration, 'wall_s': wall},
                              **{k: round(v, 4) for k, v in stages.items()})), flush=True)


def save(folder, path, video, sound):
    if not folder:
        return
    os.makedirs(folder, exist_ok=True)
    key = os.path.basename(path)
    np.save(os.path.join(folder, key + '.video.npy'), np.asarray(video, np.float32))
    if sound is not None:
        np.save(os.path.join(folder, key + '.sound.npy'), np.asarray(sound, np.float32))


# ---- embedd ----------------------------------------------------------------------------------

def vm(pid, field):
    """VmHWM / VmRSS of a process in MiB (0 when unreadable)."""
    try:
        for line in open(f'/proc/{pid}/status'):
            if line.startswith(field + ':'):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def cmd_embedd(a):
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'clients', 'python'))
    import embedd
    c = embedd.Client(a.socket, timeout=a.timeout)
    c.create_collection(a.collection, model=a.model, exist_ok=True)
    sound_collection = a.collection + '.sound'

    def add(path):
        mime = MIMES.get(os.path.splitext(path)[1].lower())  # None: the client guesses from the name
        return c.upsert(a.collection, os.path.basename(path), embedd.File(path, mime_type=mime, send_fd=True),
                        timeout=a.timeout)

    if a.warmup:
        add(a.warmup)
    for path in a.files:
        rss0 = vm(a.pid, 'VmRSS') if a.pid else 0
        t0 = time.perf_counter()
        summary = add(path)
        wall = time.perf_counter() - t0
        key = os.path.basename(path)
        row = {'engine': 'embedd', 'file': key, 'seconds': probe(path)[0], 'wall_s': wall, 'stored': summary.stored}
        if a.pid:
            row.update(rss_before_mib=round(rss0, 1), peak_rss_mib=round(vm(a.pid, 'VmHWM'), 1))
        video = np.asarray(c.get(a.collection, key).vector, np.float64)
        try:
            sound = np.asarray(c.get(sound_collection, key).vector, np.float64)
        except embedd.EmbeddError as e:  # the sound collection's name or its absence: say so, go on
            sound = None
            row['sound'] = f'no vector in {sound_collection}: {e}'
        if a.vectors:
            for kind, v in (('video', video), ('sound', sound)):
                ref = os.path.join(a.vectors, f'{key}.{kind}.npy')
                if v is not None and os.path.exists(ref):
                    r = np.load(ref).astype(np.float64)
                    row[f'cosine_{kind}_vs_python'] = round(float(v @ r / np.linalg.norm(v) / np.linalg.norm(r)), 6)
        print(json.dumps(row), flush=True)


# ---- report ------------------------------------------------------------------------------------

def group(name):
    m = re.match(r'clip-\d+-(\d+p\d+)-gop(\w+)\.mp4', name)
    return f'{m.group(1)}, GOP {"x264 default" if m.group(2) == "default" else "1 s"}' if m else None


def cmd_report(a):
    def time_of(r):
        return r.get('wall_s', r.get('frames_s', 0) + r.get('audio_s', 0))

    best = {}
    for r in (json.loads(l) for l in open(a.out) if l.startswith('{')):
        # BENCH_ROUNDS > 1: the best round of each engine and file counts (the machine is shared).
        k = (r['engine'], r['file'])
        if k not in best or time_of(r) < time_of(best[k]):
            best[k] = r
    rows = list(best.values())
    clips = [r for r in rows if r['file'].startswith('clip-')]
    log_decode = {}
    for path in a.logs:
        # A plugin-side timing line, if the video plugin writes one: "... key=K ... decode_s=X ... total_s=Y".
        for line in open(path, errors='replace'):
            d, t = re.search(r'decode_s=([0-9.]+)', line), re.search(r'total_s=([0-9.]+)', line)
            if d and t:
                k = re.search(r'key=(\S+)', line)
                log_decode[k.group(1) if k else len(log_decode)] = (float(d.group(1)), float(t.group(1)))

    def total(engine, pick):
        rs = [r for r in clips if r['engine'] == engine and pick(r['file'])]
        return rs, sum(r['seconds'] for r in rs), sum(r['wall_s'] for r in rs)

    sets = [('all ten clips', lambda f: True)] + [(g, (lambda g: lambda f: group(f) == g)(g))
                                                 for g in dict.fromkeys(group(r['file']) for r in clips)]
    print(f"{'engine':<36}{'set':<28}{'files':>6}{'video s':>9}{'wall s':>9}{'video-s/s':>11}{'× python':>10}")
    for label, pick in sets:
        py = total('python', pick)
        for engine, name in (('embedd', 'embedd (daemon, Python client, fd)'),
                             ('python', 'Python (ffmpeg CLI + transformers)')):
            rs, secs, wall = total(engine, pick)
            if not rs:
                continue
            ratio = f'{(secs / wall) / (py[1] / py[2]):.2f}' if py[0] and wall else '-'
            print(f'{name:<36}{label:<28}{len(rs):>6}{secs:>9.0f}{wall:>9.1f}{secs / wall:>11.2f}{ratio:>10}')
    # Stage shares.
    py = [r for r in clips if r['engine'] == 'python']
    if py:
        w = sum(r['wall_s'] for r in py)
        parts = {k: sum(r[k] for r in py) for k in ('frames_s', 'clip_s', 'audio_decode_s', 'whisper_s')}
        print('Python pipeline, share of its wall time: ' + ', '.join(f'{k[:-2]} {100 * v / w:.0f} %' for k, v in parts.items())
              + f'; decoding (frames + audio) {100 * (parts["frames_s"] + parts["audio_decode_s"]) / w:.0f} %')
    probe_rows = {r['file']: r for r in clips if r['engine'] == 'decode-probe'}
    em = {r['file']: r for r in clips if r['engine'] == 'embedd'}
    pyf = {r['file']: r for r in py}
    if probe_rows:
        print('decode-only pass (bench/video-decode-probe.c: libav* in process — seek and decode the 16 frames to rgb24, '
              'decode, down-mix and soxr-resample the sound; a proxy, not measured inside the plugin):')
        print(f"{'set':<28}{'frames s':>10}{'sound s':>9}{'decoded':>9}{'% of embedd wall':>18}{'% of Python wall':>18}")
        for label, pick in sets:
            rs = [r for f, r in probe_rows.items() if pick(f)]
            if not rs:
                continue
            fr, snd = sum(r['frames_s'] for r in rs), sum(r['audio_s'] for r in rs)
            ew = sum(em[r['file']]['wall_s'] for r in rs if r['file'] in em)
            pw = sum(pyf[r['file']]['wall_s'] for r in rs if r['file'] in pyf)
            print(f"{label:<28}{fr:>10.1f}{snd:>9.1f}{sum(r['decoded'] for r in rs):>9}"
                  f"{(f'{100 * (fr + snd) / ew:.0f} %' if ew else '-'):>18}{(f'{100 * (fr + snd) / pw:.0f} %' if pw else '-'):>18}")
    if log_decode:
        d = sum(v[0] for v in log_decode.values())
        t = sum(v[1] for v in log_decode.values())
        print(f'decode share from the video plugin\'s own timing lines ({len(log_decode)} calls): {100 * d / t:.0f} % ({d:.1f} of {t:.1f} s)')
    cos = [(r['file'], r.get('cosine_video_vs_python'), r.get('cosine_sound_vs_python')) for r in em.values()]
    if any(c[1] is not None for c in cos):
        v = [c[1] for c in cos if c[1] is not None]
        s = [c[2] for c in cos if c[2] is not None]
        print(f'embedd vs Python vectors, lowest cosine: video {min(v):.6f}' + (f', sound {min(s):.6f}' if s else ''))
    for r in rows:
        if r['file'].startswith('hour'):
            if r['engine'] == 'embedd':
                print(f"hour of 1080p H.264 ({r['seconds']:.0f} s) through embedd: {r['wall_s']:.1f} s wall, "
                      f"{r['seconds'] / r['wall_s']:.1f} video-s/s, stored {r['stored']}, daemon RSS before the call "
                      f"{r.get('rss_before_mib', 0):.0f} MiB, peak (VmHWM) {r.get('peak_rss_mib', 0):.0f} MiB")
            elif r['engine'] == 'decode-probe':
                print(f"hour, decode-only pass: frames {r['frames_s']:.1f} s ({r['decoded']} frames decoded, {r['seeks']} seeks), "
                      f"sound {r['audio_s']:.1f} s")
    for r in rows:
        if 'sound' in r:
            print(f"note: {r['file']}: {r['sound']}")


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest='cmd', required=True)
    d = sub.add_parser('data')
    d.add_argument('dir')
    p = sub.add_parser('python')
    p.add_argument('--clip', required=True)
    p.add_argument('--whisper', required=True)
    p.add_argument('--vectors')
    p.add_argument('--warmup')
    p.add_argument('files', nargs='+')
    e = sub.add_parser('embedd')
    e.add_argument('--socket', required=True)
    e.add_argument('--collection', required=True)
    e.add_argument('--model', required=True, help='the CLIP model the collection is bound to')
    e.add_argument('--vectors')
    e.add_argument('--warmup')
    e.add_argument('--pid', type=int, help="the daemon's pid (peak RSS)")
    e.add_argument('--timeout', type=float, default=7200)
    e.add_argument('files', nargs='+')
    r = sub.add_parser('report')
    r.add_argument('out')
    r.add_argument('logs', nargs='*')
    a = ap.parse_args()
    {'data': lambda: cmd_data(a.dir), 'python': lambda: cmd_python(a), 'embedd': lambda: cmd_embedd(a),
     'report': lambda: cmd_report(a)}[a.cmd]()


if __name__ == '__main__':
    main()
