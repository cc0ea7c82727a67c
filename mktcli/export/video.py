"""Silent H.264 MP4 through a real encoder: libx264 inside PyAV's wheel (FFmpeg built in, no system ffmpeg).

Every option that could change the bytes is pinned: the preset, the CRF, the GOP, a fixed thread count (x264's
output depends on it), no creation time, and the metadata we write. x264 is deterministic with threads as long as
no VBV cap is set — with `maxrate`/`bufsize` and two threads the bytes changed from run to run (measured:
tests/test_motion.py keeps watch) — so the bitrate cap is a check after the encode instead, and a clip over it is
encoded again at a higher CRF. The same frames give the same file on any machine with the same PyAV.
`movflags=+faststart` puts the index first so a phone starts playing before the download ends; the muxer rewrites
the file for that, so the clip is encoded into a temp file and read back."""
from __future__ import annotations

import os
import queue
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from ..errors import EngineError

PRESET = "veryfast"
CRF = 20
THREADS = 2



def load_av():
    """PyAV, imported when a video channel is rendered (never for `mkt --help` or a poster run)."""
    try:
        import av
    except ImportError as e:   # a base dependency; a broken install still gets a fix, not a traceback
        raise EngineError("video channels need PyAV (FFmpeg inside its wheel)", "pip install 'av>=14'") from e
    return av


# RGB → BT.709 limited-range Y'CbCr, as a Pillow colour matrix (Y, Cb, Cr in the R, G, B slots). FFmpeg's own
# converter (swscale, through PyAV's reformat) gave different bytes for the same picture from call to call in this
# build, so the conversion is done here: one C pass in Pillow, chroma averaged over 2×2 blocks.
_YUV709 = (0.18259, 0.61423, 0.06201, 16.0,
           -0.10064, -0.33857, 0.43922, 128.0,
           0.43922, -0.39894, -0.04027, 128.0)


def yuv420(im) -> tuple[Any, Any, Any]:
    """A PIL RGB image (even width and height) as its three yuv420p planes: Y (H × W), Cb and Cr (H/2 × W/2).
    Kept as separate planes: packed the way FFmpeg's from_ndarray wants them (H × 3/2, W) a chroma plane only
    folds into whole rows when H/2 is even, and 1080×1350 (H/2 = 675) is not."""
    import numpy as np

    # luma on the full picture alone; chroma on the picture averaged over 2×2 blocks first (the transform is linear,
    # so this is the same 4:2:0 chroma to within one step of rounding, at a quarter of the work: 11.7 → 6.5 ms for
    # a 1080×1920 frame)
    y = im.convert("L", matrix=_YUV709[:4])
    _, cb, cr = im.reduce(2).convert("RGB", matrix=_YUV709).split()
    return np.asarray(y), np.asarray(cb), np.asarray(cr)


class _fixed_heap:
    """While encoding, glibc fills every allocation with a fixed byte (mallopt M_PERTURB). The FFmpeg/x264 path
    reads some memory it never wrote (measured: the same frames gave different bytes in one process, depending on
    what had been allocated before; with the fill, the bytes are the same every time). A no-op off glibc."""

    def __enter__(self):
        self.libc = None
        try:
            import ctypes
            import ctypes.util

            name = ctypes.util.find_library("c")
            libc = ctypes.CDLL(name) if name else None
            if libc is not None and hasattr(libc, "mallopt") and hasattr(libc, "gnu_get_libc_version"):
                libc.mallopt(-6, 0x55)   # M_PERTURB
                self.libc = libc
        except OSError:
            pass
        return self

    def __exit__(self, *exc):
        if self.libc is not None:
            self.libc.mallopt(-6, 0)


def _owned_frame(av, planes, W: int, H: int):
    """A yuv420p frame with every byte of its planes set, row padding included: FFmpeg leaves the padding
    uninitialised and the encoder reads it, so without this the clip's bytes changed with what ran before it
    (measured; the reason the conversion and the frame are built here rather than by PyAV)."""
    import numpy as np

    vf = av.VideoFrame(W, H, "yuv420p")
    for plane, src in zip(vf.planes, planes):
        view = np.frombuffer(plane, np.uint8).reshape(-1, plane.line_size)
        view[:src.shape[0], :src.shape[1]] = src
        view[:, src.shape[1]:] = 0   # the row padding is uninitialised memory, and the encoder reads it
    return vf


def options(fps: int, crf: int = CRF) -> dict[str, str]:
    # not FFmpeg's `sc_threshold` (with it the bytes varied from run to run, measured): x264's own scenecut switch
    return {"preset": PRESET, "crf": str(crf), "threads": str(THREADS), "g": str(fps), "profile": "high",
            "x264-params": "scenecut=0"}


def encode_mp4(frames: Callable[[int], Any], n: int, size: tuple[int, int], fps: int, *,
               metadata: dict[str, str] | None = None, crf: int = CRF,
               timings: dict[str, float] | None = None) -> tuple[bytes, dict[str, Any]]:
    """Encode frames(0) … frames(n-1) (PIL RGB images of `size`) as MP4; returns (file bytes, encoder settings).
    The frames are drawn in a second thread while x264 encodes (Pillow and x264 both work outside the GIL), so the
    two cores share the work. `timings` (if given) receives compose_s and encode_s (the encoder's own wait)."""
    av = load_av()
    W, H = size
    opts = options(fps, crf)
    q: queue.Queue = queue.Queue(maxsize=6)
    spent = {"compose_s": 0.0}
    stop = threading.Event()

    def produce():
        try:
            for i in range(n):
                t0 = time.perf_counter()
                im = frames(i)
                spent["compose_s"] += time.perf_counter() - t0
                while not stop.is_set():
                    try:
                        q.put(im, timeout=0.2)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put(None)
        except BaseException as e:  # noqa: BLE001 — handed to the encoding thread, raised there
            q.put(e)

    tmpdir = tempfile.mkdtemp(prefix="mkt-video-")
    path = Path(tmpdir) / "clip.mp4"
    worker = threading.Thread(target=produce, name="mkt-frames", daemon=True)
    t_all = time.perf_counter()
    try:
        worker.start()
        with _fixed_heap(), av.open(str(path), "w", format="mp4", options={"movflags": "+faststart"}) as out:
            out.metadata.update(metadata or {})
            st = out.add_stream("libx264", rate=fps, options=opts)
            st.width, st.height, st.pix_fmt = W, H, "yuv420p"
            st.codec_context.color_range = 1          # tv (limited) range, what players assume
            st.codec_context.colorspace = 1           # BT.709 …
            st.codec_context.color_primaries = 1
            st.codec_context.color_trc = 1
            count = 0
            while True:
                item = q.get()
                if item is None:
                    break
                if isinstance(item, BaseException):
                    raise item
                if item.size != (W, H):
                    raise EngineError(f"frame {count} is {item.size[0]}×{item.size[1]}, not {W}×{H}")
                vf = _owned_frame(av, yuv420(item), W, H)
                vf.pts = count
                for pkt in st.encode(vf):
                    out.mux(pkt)
                count += 1
            for pkt in st.encode():
                out.mux(pkt)
        data = path.read_bytes()
    finally:
        stop.set()
        worker.join(timeout=5)
        for f in Path(tmpdir).glob("*"):
            f.unlink(missing_ok=True)
        os.rmdir(tmpdir)
    total = time.perf_counter() - t_all
    if timings is not None:
        timings["compose_s"] = spent["compose_s"]
        timings["total_s"] = total
    return data, {"container": "mp4", "codec": "h264", "encoder": "libx264", "pix_fmt": "yuv420p",
                  "profile": "high", "preset": PRESET, "crf": crf, "gop": fps, "threads": THREADS, "movflags": "+faststart",
                  "color": "bt709 tv", "fps": fps, "frames": n, "audio": None, "av": av.__version__}


def probe(source: bytes | str | Path) -> dict[str, Any]:
    """What ffprobe would say about a clip (through PyAV): codec, pixel format, size, frame rate, frames, duration,
    bytes, and the container's metadata."""
    import io

    av = load_av()
    data = source if isinstance(source, bytes) else Path(source).read_bytes()
    with av.open(io.BytesIO(data)) as c:
        vs = [s for s in c.streams if s.type == "video"]
        if not vs:
            raise EngineError("the file has no video stream")
        s = vs[0]
        cc = s.codec_context
        dur = float(s.duration * s.time_base) if s.duration is not None else float(c.duration or 0) / 1e6
        return {"codec": cc.name, "pix_fmt": cc.pix_fmt or str(s.format.name if s.format else ""),
                "width": cc.width, "height": cc.height, "fps": float(s.average_rate) if s.average_rate else None,
                "frames": s.frames, "duration_s": round(dur, 4), "bytes": len(data),
                "audio_streams": sum(1 for x in c.streams if x.type == "audio"),
                "kbps": round(len(data) * 8 / 1000 / dur, 1) if dur else None,
                "metadata": dict(c.metadata), "faststart": data.find(b"moov") < data.find(b"mdat")}


def frames_at(source: bytes | str | Path, times: Iterable[float]) -> dict[float, Any]:
    """Decoded frames (PIL RGB) nearest each time in seconds, as a viewer sees the encoded clip."""
    import io

    av = load_av()
    want = sorted(set(times))
    data = source if isinstance(source, bytes) else Path(source).read_bytes()
    out: dict[float, Any] = {}
    with av.open(io.BytesIO(data)) as c:
        s = c.streams.video[0]
        fps = float(s.average_rate)
        idx = {t: min(round(t * fps), (s.frames or 10**9) - 1) for t in want}
        need = sorted(set(idx.values()))
        k = 0
        for f in c.decode(s):
            i = round(float(f.pts * f.time_base) * fps)
            if i in need:
                img = f.to_image()
                for t, j in idx.items():
                    if j == i:
                        out[t] = img
                k += 1
                if k == len(need):
                    break
    return out
