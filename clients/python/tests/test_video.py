"""Videos from Python (issue 22) against the real daemon with the real clip, audio and video
plugins and the tiny seeded models: a collection bound to CLIP stores a video (routed to the
video model of its space) and its sound track (into ``COLLECTION.sound``, bound to Whisper),
and a video finds itself. Skipped with a message when the plugins, ffmpeg or python3-imageio's
videos are absent.
"""

from __future__ import annotations

import shutil
import unittest
from pathlib import Path

import _support
from _support import find_daemon
from test_live import LiveTestCase

import embedd

REPO = Path(__file__).resolve().parents[3]
IMAGEIO = Path("/usr/lib/python3/dist-packages/imageio/resources/images")
COCKATOO = IMAGEIO / "cockatoo.mp4"
REALSHORT = IMAGEIO / "realshort.mp4"
CLIPS = REPO / "Tests" / "Fixtures" / "video" / "clips"


def setUpModule() -> None:
    reason = _support.missing_daemon_reason()
    if reason:
        raise unittest.SkipTest(f"live daemon tests skipped: {reason}")


def _video_yaml() -> str:
    """``models:`` entries for clip, whisper and a video model composing them ("" when a plugin is absent)."""
    binary = find_daemon()
    if binary is None:
        return ""
    products = binary.resolve().parent
    plugins = [products / f"libembedd-{p}.so" for p in ("clip", "audio", "video")]
    if not all(p.is_file() for p in plugins):
        return ""
    clip = REPO / "Tests" / "Fixtures" / "clip" / "clip-tiny-gelu"
    whisper = REPO / "Tests" / "Fixtures" / "audio" / "whisper-tiny"
    return (f"  - name: clip\n    plugin: {plugins[0]}\n    model_dir: {clip}\n    options: {{ precision: fp32 }}\n"
            f"  - name: whisper\n    plugin: {plugins[1]}\n    model_dir: {whisper}\n    options: {{ precision: fp32 }}\n"
            f"  - name: clip-video\n    plugin: {plugins[2]}\n    model_dir: {clip}\n"
            f"    options: {{ frames_model: clip, audio_model: whisper }}\n")


def _cosine(a, b) -> float:
    a, b = list(a), list(b)
    ab = sum(x * y for x, y in zip(a, b))
    return ab / ((sum(x * x for x in a) * sum(y * y for y in b)) ** 0.5)


@unittest.skipUnless(_video_yaml() and shutil.which("ffmpeg") and COCKATOO.is_file() and REALSHORT.is_file(),
                     "needs the clip, audio and video plugins, ffmpeg and python3-imageio")
class VideoTests(LiveTestCase):
    MODELS = {"fx": {"dim": "8"}}
    KW = {"extra_yaml": _video_yaml()}

    def test_a_video_and_its_sound_are_stored_and_the_video_finds_itself(self) -> None:
        c = self.client()
        c.create_collection("clips", model="clip")
        silent = CLIPS / "hevc.mkv"
        s = c.upsert("clips", ["v", "silent", "sent-as-fd", "t"],
                     [embedd.File(COCKATOO), embedd.File(silent), embedd.File(REALSHORT, send_fd=True), "a bird on a branch"],
                     timeout=120)
        self.assertEqual((s.stored, s.failed), (4, 0))
        v, quiet, fd, text = s.results
        self.assertEqual((v.sound, v.sound_collection), (embedd.SoundOutcome.SOUND_STORED, "clips.sound"))
        self.assertEqual(quiet.sound, embedd.SoundOutcome.SOUND_ABSENT)
        self.assertTrue(quiet.sound_error.startswith("no sound track"), quiet.sound_error)
        self.assertEqual(fd.sound, embedd.SoundOutcome.SOUND_STORED)
        self.assertEqual(text.sound, embedd.SoundOutcome.SOUND_NOT_APPLICABLE)

        info = c.describe_collection("clips.sound")
        self.assertEqual((info.model, info.count), ("whisper", 2))
        # The stored vectors are the video model's and the audio model's for the same file.
        video = _support.rows(c.embed(embedd.File(COCKATOO), model="clip-video"))[0]
        sound = _support.rows(c.embed(embedd.File(COCKATOO), model="whisper"))[0]
        self.assertGreater(_cosine(c.get("clips", "v").vector, video), 0.99999)
        self.assertGreater(_cosine(c.get("clips.sound", "v").vector, sound), 0.99999)
        with self.assertRaises(embedd.NotFoundError):
            c.get("clips.sound", "silent")

        # A video as the query: itself first, score 1; its sound finds its sound.
        for query in (embedd.File(COCKATOO), embedd.File(COCKATOO, send_fd=True)):
            hits = c.search("clips", input=query, k=3)
            self.assertEqual(hits[0].key, "v")
            self.assertAlmostEqual(hits[0].score, 1.0, places=4)
        self.assertEqual(c.search("clips.sound", input=embedd.File(REALSHORT), k=1)[0].key, "sent-as-fd")

        # Segments: 10-s windows of the video, the sound's window beside it.
        s = c.upsert("clips", "v", embedd.File(COCKATOO), segments=True, timeout=120)
        self.assertEqual((s.stored, s.results[0].segments), (1, 2))
        self.assertEqual(c.get("clips", "v").metadata, {"segments": [[0, 10], [10, 14]]})
        self.assertEqual(c.search("clips", input=embedd.File(COCKATOO), k=1)[0].key.split("#")[0], "v")

        # A broken video fails alone, naming why.
        bad = self.daemon.dir / "cut.mp4"
        bad.write_bytes(COCKATOO.read_bytes()[:100_000])
        s = c.upsert("clips", ["cut", "ok"], [embedd.File(bad), embedd.File(REALSHORT)], check=False)
        self.assertEqual((s.stored, s.failed), (1, 1))
        self.assertIn("truncated MP4 file", s.results[0].error)


if __name__ == "__main__":
    unittest.main()
