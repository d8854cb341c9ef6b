#!/usr/bin/env bash
# Short CPU acceptance run of CS-UNet (r50 + Swin-T, no pretraining) on NASA's REAL benchmark data.
#
#   bash tools/misc/short_real_run.sh SPLIT ITERS [WORK_DIR]
#     SPLIT: super1 | ebc1 (configs/csunet/short_run/csunet_r50_${SPLIT}_short.py)
#     ITERS: training iterations (batch 2, random 512 crops + the paper's augmentation)
#
# Steps: convert the data once (data/nasa_benchmark, skipped when present), train ITERS iterations
# (one validation at the end), then test the last checkpoint: mIoU, per-class IoU and NASA's IoU.
# Wall times of training and testing are printed at the end and written to WORK_DIR/times.txt.
set -euo pipefail
SPLIT=${1:?usage: short_real_run.sh SPLIT ITERS [WORK_DIR]}
ITERS=${2:?usage: short_real_run.sh SPLIT ITERS [WORK_DIR]}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
PY=${PYTHON:-$ROOT/.venv/bin/python}
SRC=${NASA_SRC:-$ROOT/../shared/data/nasa_benchmark/benchmark_segmentation_data}
CFG=configs/csunet/short_run/csunet_r50_${SPLIT}_short.py
WORK=${3:-work_dirs/short_real_run/${SPLIT}_${ITERS}}
[ -f "$CFG" ] || { echo "no short-run config $CFG" >&2; exit 2; }

if [ ! -f "data/nasa_benchmark/${SPLIT}/splits/test.txt" ]; then
  "$PY" tools/dataset_converters/nasa_benchmark.py "$SRC" -o data/nasa_benchmark
fi

mkdir -p "$WORK"
t0=$(date +%s.%N)
"$PY" tools/train.py "$CFG" --work-dir "$WORK" \
  --cfg-options train_cfg.max_iters="$ITERS" train_cfg.val_interval="$ITERS" \
  2>&1 | tee "$WORK/train.out"
t1=$(date +%s.%N)
"$PY" tools/test.py "$CFG" "$WORK/iter_${ITERS}.pth" --work-dir "$WORK/test" \
  2>&1 | tee "$WORK/test.out"
t2=$(date +%s.%N)
printf 'split=%s iters=%s train_s=%.1f test_s=%.1f\n' "$SPLIT" "$ITERS" \
  "$(echo "$t1 - $t0" | bc)" "$(echo "$t2 - $t1" | bc)" | tee "$WORK/times.txt"
