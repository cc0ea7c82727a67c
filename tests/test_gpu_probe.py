"""The NVIDIA probe behind `auto` and `mkt doctor`: torch is imported only where a GPU's driver is present."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from mktcli import gpu


def test_driver_files_are_found_in_proc_or_dev(tmp_path):
    proc, dev = tmp_path / "proc", tmp_path / "dev"
    proc.mkdir()
    dev.mkdir()
    assert not gpu.driver_files(proc, dev)
    (dev / "nvidiactl").write_text("")          # the control node alone is not a GPU
    (dev / "nvidia-uvm").write_text("")
    assert not gpu.driver_files(proc, dev)
    (dev / "nvidia0").write_text("")
    assert gpu.driver_files(proc, dev)
    (dev / "nvidia0").unlink()
    (proc / "driver" / "nvidia").mkdir(parents=True)
    (proc / "driver" / "nvidia" / "version").write_text("NVRM version: 570.00\n")
    assert gpu.driver_files(proc, dev)


@pytest.mark.parametrize(("value", "hidden"), [("", True), ("-1", True), (" ", True), ("0", False), ("0,1", False)])
def test_cuda_visible_devices_can_hide_every_gpu(monkeypatch, value, hidden):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", value)
    assert gpu.hidden_by_env() is hidden


def test_no_cuda_visible_devices_hides_nothing(monkeypatch):
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    assert not gpu.hidden_by_env()


def test_nvml_missing_counts_no_gpu():
    assert gpu.nvml_device_count(("libnot-a-real-nvml-library.so.9",)) == 0
    assert gpu.nvml_device_count(()) == 0


def test_hidden_gpus_are_absent_whatever_the_driver(monkeypatch):
    gpu.nvidia_gpu_present.cache_clear()
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "-1")
    monkeypatch.setattr(gpu, "driver_files", lambda *a: True)
    try:
        assert gpu.nvidia_gpu_present() is False
    finally:
        gpu.nvidia_gpu_present.cache_clear()


def _fresh(code: str) -> str:
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert r.returncode == 0, r.stderr
    return r.stdout


@pytest.mark.skipif(gpu.nvidia_gpu_present(), reason="this machine has an NVIDIA driver: auto must ask torch")
def test_auto_and_doctor_never_import_torch_without_a_gpu():
    out = _fresh("import json, sys\n"
                 "from mktcli.visual.base import resolve_engine_name\n"
                 "from mktcli.doctor import _torch_report\n"
                 "name, note = resolve_engine_name('auto', has_image=False)\n"
                 "rep = _torch_report()\n"
                 "print(json.dumps([name, note, rep, 'torch' in sys.modules, 'diffusers' in sys.modules]))")
    name, note, rep, torch_loaded, diffusers_loaded = json.loads(out)
    assert name == "illustration" and "no NVIDIA GPU" in note
    assert not torch_loaded and not diffusers_loaded
    assert rep["installed"] and rep["cuda_available"] is False and "probe" in rep and rep["version"]
