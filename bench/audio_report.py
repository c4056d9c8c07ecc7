#!/usr/bin/env python3
"""bench/audio's report: the JSON lines of its three parts → markdown tables with the ratios and
the issue's targets. Per row the best round counts (highest rate, or lowest p50 for the one-thread
stages).

    audio_report.py MACHINE RECORDINGS.json ENCODER.jsonl E2E.jsonl PREP.jsonl
"""
import json
import sys


def lines(path):
    return [json.loads(l) for l in open(path) if l.startswith("{")]


def best(rows, key, rate):
    out = {}
    for r in rows:
        k = key(r)
        if k not in out or (r[rate] > out[k][rate] if rate != "ms_p50" else r[rate] < out[k][rate]):
            out[k] = r
    return out


def ratio(a, b):
    return f"{a / b:.2f}×" if a and b else "–"


def main():
    machine, recordings = open(sys.argv[1]).read().strip(), json.load(open(sys.argv[2]))
    enc, e2e, prep = lines(sys.argv[3]), lines(sys.argv[4]), lines(sys.argv[5])
    print(f"{machine}")
    print(f"recordings: {recordings['windows']} windows of 30 s cut from {recordings['speech_s']:.1f} s of real speech "
          f"({recordings['sources']} pocketsphinx-testdata files, repeated), {recordings['mels']} mel bins\n")
    targets = []
    has_bf16 = any(r["engine"] == "embedd-bf16" for r in enc)

    if enc:
        b = best(enc, lambda r: (r["engine"], r["batch"]), "windows_per_s")
        engines = list(dict.fromkeys(r["engine"] for r in enc))
        names = {"embedd-fp32": "embedd fp32 (in-process)", "embedd-bf16": "embedd bf16 (in-process)",
                 "torch-fp32": "PyTorch fp32 (transformers)", "ct2-float32": "CTranslate2 float32", "ct2-int8": "CTranslate2 int8"}
        print("### 1. Encoder (30-s log-mel windows → pooled vectors; encoder alone)\n")
        print("windows/s from each engine's fastest timed call, p50 the median call, best round; ratios of windows/s\n")
        print("| engine | batch | windows/s | p50 ms | × PyTorch | × CT2 fp32 | × CT2 int8 |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for batch in sorted({r["batch"] for r in enc}):
            for e in engines:
                r = b.get((e, batch))
                if not r:
                    continue
                peer = lambda n: b.get((n, batch), {}).get("windows_per_s")
                print(f"| {names.get(e, e)} | {batch} | {r['windows_per_s']:.2f} | {r['median_ms']:.0f} | "
                      f"{ratio(r['windows_per_s'], peer('torch-fp32'))} | {ratio(r['windows_per_s'], peer('ct2-float32'))} | "
                      f"{ratio(r['windows_per_s'], peer('ct2-int8'))} |")
        print()
        rate = lambda e, n=1: b.get((e, n), {}).get("windows_per_s")
        if rate("embedd-fp32") and rate("ct2-float32"):
            x = rate("embedd-fp32") / rate("ct2-float32")
            targets.append(f"fp32 ≥ 1× CTranslate2 float32 at batch 1: {x:.2f}× — {'met' if x >= 1 else 'NOT met'}")
        if rate("embedd-fp32") and rate("torch-fp32"):
            x = rate("embedd-fp32") / rate("torch-fp32")
            targets.append(f"fp32 ≥ 1.5× PyTorch at batch 1: {x:.2f}× — {'met' if x >= 1.5 else 'NOT met'}")
        if has_bf16 and rate("ct2-int8"):
            x = rate("embedd-bf16") / rate("ct2-int8")
            targets.append(f"bf16 ≥ 1× CTranslate2 int8 at batch 1: {x:.2f}× — {'met' if x >= 1 else 'NOT met'}")
        else:
            targets.append("bf16 ≥ CTranslate2 int8: not measured — this CPU has no AVX-512 BF16 or AMX (fp32 only)")

    if e2e:
        b = best(e2e, lambda r: (r["engine"], r["batch"]), "files_per_s")
        engines = list(dict.fromkeys(r["engine"] for r in e2e))
        key = lambda prefix: next((e for e in engines if e.startswith(prefix)), None)
        pt, c32, c8 = key("pytorch"), key("ctranslate2 float32"), key("ctranslate2 int8")
        print("### 2. End to end (30-s FLAC files → one vector each)\n")
        print("files/s over all timed calls, best round; the peers decode with the ffmpeg CLI in a subprocess "
              "(openai-whisper's load_audio), then WhisperFeatureExtractor, the encoder and the plugin's pooling\n")
        print("| engine | files per call | files/s | p50 ms per call | × PyTorch | × CT2 fp32 | × CT2 int8 |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for batch in sorted({r["batch"] for r in e2e}):
            for e in engines:
                r = b.get((e, batch))
                if not r:
                    continue
                peer = lambda n: b.get((n, batch), {}).get("files_per_s")
                print(f"| {e} | {batch} | {r['files_per_s']:.2f} | {r['p50_ms']:.0f} | {ratio(r['files_per_s'], peer(pt))} | "
                      f"{ratio(r['files_per_s'], peer(c32))} | {ratio(r['files_per_s'], peer(c8))} |")
        print()

    if prep:
        b = best(prep, lambda r: (r["engine"], r.get("impl", ""), r["stage"], r["stage"] == "features" or r["format"]), "ms_p50")
        print("### 3. Decode and features apart (one thread, per 30-s file)\n")
        print("| stage | input | implementation | ms p50 | embedd × faster |")
        print("|---|---|---|---:|---:|")
        emb = {(r["stage"], r["format"].split(" ")[0] if r["stage"] == "decode" else "log-mel"): r
               for r in b.values() if r["engine"] == "embedd"}
        feature_ratios = []
        for (stage, fmt), e in emb.items():
            label = e["format"] if stage == "decode" else "first 30 s of each file"
            print(f"| {stage} | {label} | embedd ({'EmbedAV' if stage == 'decode' else 'EmbedAudio'}) | {e['ms_p50']:.2f} | 1 |")
            for r in b.values():
                if r["engine"] == "embedd" or r["stage"] != stage or (stage == "decode" and r["format"] != fmt):
                    continue
                print(f"| {stage} | {label} | {r['impl']} | {r['ms_p50']:.2f} | {r['ms_p50'] / e['ms_p50']:.1f}× |")
                if stage == "features":
                    feature_ratios.append((r["ms_p50"] / e["ms_p50"], r["impl"]))
        print()
        # The peer for features is WhisperFeatureExtractor (its faster path counts); librosa's
        # melspectrogram is no Whisper front end of its own, so it is reported beside the target.
        wfe = [f for f in feature_ratios if "WhisperFeatureExtractor" in f[1]]
        if wfe:
            x, impl = min(wfe)
            line = (f"features ≥ 5× the Python front end (WhisperFeatureExtractor, its faster path): {x:.1f}× against {impl}, "
                    f"{max(wfe)[0]:.1f}× against its other path — {'met' if x >= 5 else 'NOT met'}")
            others = [f for f in feature_ratios if f not in wfe]
            if others:
                line += "; beside it " + ", ".join(f"{r:.1f}× against {i}" for r, i in others)
            targets.append(line)

    if targets:
        print("### Targets\n")
        for t in targets:
            print(f"- {t}")


if __name__ == "__main__":
    main()
