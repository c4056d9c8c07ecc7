#!/usr/bin/env python3
"""bench/audio's recordings, made once per run: real speech (Debian's pocketsphinx-testdata,
librivox/*.wav then cards/*.wav, 16 kHz mono, 34 s in all) joined end to end and repeated
cyclically, cut into N consecutive 30-s windows (window i starts 30·i s into the repeated
stream, so the windows differ), each written as

    win-NN.wav   16-bit PCM, 16 kHz mono (the source samples)
    win-NN.flac  the same samples, losslessly (the end-to-end files: exactly 480,000 samples,
                 one window each, whatever decodes them)
    win-NN.mp3   ffmpeg's libmp3lame at 44.1 kHz stereo, 128 kb/s (decode + resample work of
                 a typical MP3; used by the decode part only: MP3's encoder delay makes it
                 slightly longer than 30 s)

and features.f32: transformers' WhisperFeatureExtractor of every window (float32, N × mels ×
3000, row-major), the input of the encoder part for every engine.

    recordings.py OUT_DIR [--windows 8] [--hf models/whisper-base]
"""
import argparse
import glob
import json
import os
import subprocess
import wave

import numpy as np

SOURCES = ["/usr/share/pocketsphinx/test/data/librivox/*.wav", "/usr/share/pocketsphinx/test/data/cards/*.wav"]
RATE, WINDOW = 16000, 30 * 16000


def read_wav(path):
    with wave.open(path, "rb") as w:
        if (w.getframerate(), w.getnchannels(), w.getsampwidth()) != (RATE, 1, 2):
            raise SystemExit(f"{path}: expected 16-kHz mono 16-bit PCM")
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--windows", type=int, default=8)
    ap.add_argument("--hf", required=True, help="the Whisper model folder (its preprocessor_config.json)")
    a = ap.parse_args()
    paths = [p for pattern in SOURCES for p in sorted(glob.glob(pattern))]
    if not paths:
        raise SystemExit("no recordings: apt-get install pocketsphinx-testdata")
    speech = np.concatenate([read_wav(p) for p in paths])
    reps = -(-a.windows * WINDOW // len(speech))
    stream = np.tile(speech, reps)
    os.makedirs(a.out, exist_ok=True)
    from transformers import WhisperFeatureExtractor
    fe = WhisperFeatureExtractor.from_pretrained(a.hf)
    feats = []
    for i in range(a.windows):
        pcm = stream[i * WINDOW:(i + 1) * WINDOW]
        base = os.path.join(a.out, f"win-{i:02d}")
        with wave.open(base + ".wav", "wb") as w:
            w.setnchannels(1), w.setsampwidth(2), w.setframerate(RATE)
            w.writeframes(pcm.astype("<i2").tobytes())
        ff = ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", base + ".wav"]
        subprocess.run(ff + ["-c:a", "flac", base + ".flac"], check=True)
        subprocess.run(ff + ["-ar", "44100", "-ac", "2", "-c:a", "libmp3lame", "-b:a", "128k", base + ".mp3"], check=True)
        feats.append(fe(pcm.astype(np.float32) / 32768.0, sampling_rate=RATE, return_tensors="np")["input_features"][0])
    np.stack(feats).astype("<f4").tofile(os.path.join(a.out, "features.f32"))
    print(json.dumps({"sources": len(paths), "speech_s": len(speech) / RATE, "windows": a.windows,
                      "mels": int(feats[0].shape[0])}))


if __name__ == "__main__":
    main()
