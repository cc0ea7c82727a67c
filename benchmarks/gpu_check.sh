#!/usr/bin/env bash
# The device check for the diffusers engine, as one script (run on a lent GPU machine from the repo root):
#   0. the NVIDIA probe behind `auto` finds the GPU (and auto picks diffusers);
#   1. the CUDA path of `mkt poster --visual-engine diffusers` end to end, on a tiny random pipeline saved to disk;
#   2. `mkt poster --visual-engine diffusers` without CUDA visible: the clear error, exit 2;
#   3. benchmarks/diffusion.py on the full-size Qwen-Image architecture (random weights).
# Results land in $OUT (or ./gpu-out). Wheels the machine lacks can be carried in .whl/ (see docs/benchmarks.md).
set -u
OUT=${OUT:-gpu-out}; mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
if [ -z "${NO_WHL:-}" ] && ls .whl/*.whl >/dev/null 2>&1; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
  export PYTHONPATH=/tmp/site:$PWD
else
  export PYTHONPATH=$PWD
fi
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
export MKT_HOME=/tmp/mkt-home; mkdir -p $MKT_HOME
python3 - <<'PY'
from mktcli.visual.random_models import save_tiny_qwen_image
save_tiny_qwen_image("/tmp/tiny-qwen-image")
open("/tmp/mkt-home/models.yaml", "w").write("""version: 1
models:
  /tmp/tiny-qwen-image:
    label: tiny random Qwen-Image (device check)
    pipeline: QwenImagePipeline
    licence: Apache-2.0
    commercial_use: true
    guidance: true_cfg
    resolutions: [[256, 256], [384, 224], [224, 384]]
    profiles:
      quality: {steps: 4, cfg: 4.0}
""")
PY
echo "== 0. the NVIDIA probe (mktcli/gpu.py) finds this GPU, and auto picks diffusers"
python3 -c "from mktcli.gpu import nvidia_gpu_present as p, driver_files as d, nvml_device_count as n; from mktcli.visual.base import resolve_engine_name as r; print('probe', p(), 'driver files', d(), 'nvml', n()); print(r('auto', False))"
echo "== 1. mkt poster --visual-engine diffusers on CUDA (tiny pipeline)"
time python3 -m mktcli poster examples/briefs/farm-loan.yaml -o "$OUT/poster" --visual-engine diffusers \
  --diffusion-model /tmp/tiny-qwen-image --json > "$OUT/poster.json"; echo "exit $?"
python3 -c "import json;d=json.load(open('$OUT/poster.json'));print(d['exit_code'], len(d['creatives']), d['notes'][:2])"
python3 -c "import json,glob;m=json.load(open(glob.glob('$OUT/poster/*/manifest.json')[0]));v=m['creatives'][0]['engines']['visual'];print({k:v[k] for k in ('model','dtype','device','steps','guidance','seed','native','fit')})"
echo "== 2. without CUDA visible"
CUDA_VISIBLE_DEVICES= python3 -m mktcli poster examples/briefs/farm-loan.yaml -o /tmp/nocuda --visual-engine diffusers; echo "exit $?"
echo "== 3. benchmark, full-size architecture"
timeout ${BENCH_TIMEOUT:-400} python3 benchmarks/diffusion.py --json-out "$OUT/diffusion.json" --budget ${BENCH_BUDGET:-300} \
  --low-vram-steps 10 2>&1 | grep -v -i "warn"
echo "bench exit ${PIPESTATUS[0]}"
nvidia-smi --query-gpu=memory.used --format=csv,noheader
