#!/usr/bin/env bash
# The one command a session with a GPU runs (README, "Measuring on a GPU"): install the carried psygnal
# wheel, run the Qt-free tests on CUDA, then benchmarks/gpu_check.py, then the engine with the slower-
# to-compile autotuning mode. Each step has its own time limit, and the whole stays under 10 minutes,
# the device tool's limit for one command. Logs go to $OUT (the device tool brings them back), or to
# ./gpu-results elsewhere.
#
#   bash benchmarks/gpu_session.sh            # in the repository's root, .whl/psygnal-*.whl beside it
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-gpu-results}
mkdir -p "$out"
began=$SECONDS

if ! python3 -c "import psygnal" 2>/dev/null; then
    wheels=(.whl/psygnal-*.whl)
    if [ ! -e "${wheels[0]}" ]; then
        echo "psygnal is missing and no .whl/psygnal-*.whl was carried: see README, Measuring on a GPU" >&2
        exit 2
    fi
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site \
        "${wheels[@]}" || exit 2
    export PYTHONPATH=/tmp/site
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1

{ nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv
  python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda, torch.cuda.get_device_name())"
} 2>&1 | tee "$out/machine.txt"

# 1. The Qt-free tests (no PySide6 there), on CUDA: "auto" picks the GPU.
echo "== tests ($((SECONDS - began)) s)"
parallel=()
python3 -c "import xdist" 2>/dev/null && parallel=(-n 8)
timeout 200 python3 -m pytest -q ${parallel[@]+"${parallel[@]}"} tests/core tests/data tests/training tests/cli/test_core_verbs.py \
    2>&1 | tee "$out/tests.log" | tail -25

# 2. The issue's table, probes and the training process (goal: under 3 minutes).
echo "== gpu_check ($((SECONDS - began)) s)"
timeout 240 python3 benchmarks/gpu_check.py 2>&1 | tee "$out/gpu_check.log"

# 3. The compile mode that searches kernels (compiles take longer): the loops again (their graphs are in
#    inductor's cache now) and the engine in that mode, for choosing acceleration.COMPILE_MODE.
left=$((570 - (SECONDS - began)))
if [ "$left" -gt 60 ]; then
    echo "== gpu_check, max-autotune-no-cudagraphs ($((SECONDS - began)) s, $left s left)"
    timeout "$left" python3 benchmarks/gpu_check.py --modes max-autotune-no-cudagraphs --no-process \
        2>&1 | tee "$out/gpu_check_autotune.log"
fi
echo "== done in $((SECONDS - began)) s; logs in $out"
