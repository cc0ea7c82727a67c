"""Is there an NVIDIA GPU here? A probe that costs microseconds, so `auto` never imports torch (≈2 s, 180 MB) on a
machine that has no GPU only to learn that it has none.

The probe looks for what the NVIDIA driver leaves on a machine, cheapest first: its /proc entry and device nodes
(Linux, also inside a container the GPU was passed to), then NVML (libnvidia-ml, which the driver installs on Linux,
Windows and WSL) through ctypes. `CUDA_VISIBLE_DEVICES` set to nothing or -1 hides every GPU, as it does from torch.
A "yes" is only a hint: torch still has the last word on whether CUDA works."""
from __future__ import annotations

import ctypes
import glob
import os
import sys
from functools import lru_cache
from pathlib import Path

_NVML_NAMES = {"win32": ("nvml.dll",), "linux": ("libnvidia-ml.so.1", "libnvidia-ml.so")}


def hidden_by_env() -> bool:
    """CUDA_VISIBLE_DEVICES='' or '-1': the user hid the GPUs from every CUDA program."""
    v = os.environ.get("CUDA_VISIBLE_DEVICES")
    return v is not None and v.strip() in ("", "-1")


def driver_files(proc: str | Path = "/proc", dev: str | Path = "/dev") -> bool:
    """The Linux driver's traces: /proc/driver/nvidia/version, or a /dev/nvidia0…N device node."""
    if (Path(proc) / "driver" / "nvidia" / "version").is_file():
        return True
    return any(p[len(str(dev)) + 7:].isdigit() for p in glob.glob(os.path.join(str(dev), "nvidia[0-9]*")))


def nvml_device_count(names: tuple[str, ...] | None = None) -> int:
    """GPUs NVML reports (0 when the library is missing or fails): covers WSL and Windows, which have no /proc
    entry. Loading NVML is a few milliseconds; it starts no CUDA context."""
    for name in names if names is not None else _NVML_NAMES.get(sys.platform, ()):
        try:
            lib = ctypes.CDLL(name)
        except OSError:
            continue
        try:
            if lib.nvmlInit_v2() != 0:
                return 0
            count = ctypes.c_uint(0)
            ok = lib.nvmlDeviceGetCount_v2(ctypes.byref(count)) == 0
            lib.nvmlShutdown()
            return count.value if ok else 0
        except (AttributeError, OSError):
            return 0
    return 0


@lru_cache(maxsize=1)
def nvidia_gpu_present() -> bool:
    """True when an NVIDIA GPU may be usable here (then ask torch); False means torch would find no CUDA device."""
    if hidden_by_env() or sys.platform == "darwin":
        return False
    return driver_files() or nvml_device_count() > 0
