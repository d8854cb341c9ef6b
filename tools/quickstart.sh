#!/usr/bin/env bash
# The main job, on CPU in a few minutes: set up .venv/, generate synthetic superalloy micrographs,
# train a small CS-UNet on them, evaluate mIoU on the held-out images and save overlays, then
# segment and measure the held-out images with tools/analyze.py (no ground truth needed).
# Override the work dir with WORK_DIR=..., the data dir with DATA_DIR=...
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/setup_env.sh
CONFIG=configs/csunet/csunet_tiny_synthetic.py
DATA_DIR="${DATA_DIR:-data/synthetic}"
WORK_DIR="${WORK_DIR:-work_dirs/quickstart}"
DATA_ROOT="$DATA_DIR/synthetic_super"

echo "== 1/4 synthetic micrographs -> $DATA_ROOT"
"$PYTHON_BIN" tools/dataset_converters/synthetic_micrographs.py "$DATA_DIR" --material super \
    --num-train 16 --num-val 4 --num-test 4 --size 256 256 --seed 0
DATA_OPTS=(train_dataloader.dataset.data_root="$DATA_ROOT"
           val_dataloader.dataset.data_root="$DATA_ROOT"
           test_dataloader.dataset.data_root="$DATA_ROOT")

echo "== 2/4 training $CONFIG (CPU, a few minutes) -> $WORK_DIR"
START=$(date +%s)
"$PYTHON_BIN" tools/train.py "$CONFIG" --work-dir "$WORK_DIR" --cfg-options "${DATA_OPTS[@]}"
TRAIN_S=$(( $(date +%s) - START ))

CKPT=$(ls -t "$WORK_DIR"/best_mIoU_*.pth 2>/dev/null | head -n1)
[ -n "$CKPT" ] || { echo "quickstart: no best checkpoint in $WORK_DIR" >&2; exit 1; }
SHOW_DIR="$(cd "$WORK_DIR" && pwd)/overlays"
echo "== 3/4 testing $CKPT on the test images"
"$PYTHON_BIN" tools/test.py "$CONFIG" "$CKPT" --work-dir "$WORK_DIR/test" \
    --show-dir "$SHOW_DIR" --cfg-options "${DATA_OPTS[@]}" 2>&1 | tee "$WORK_DIR/test.log"

echo "== 4/4 segmenting and measuring the test images with tools/analyze.py"
"$PYTHON_BIN" tools/analyze.py "$DATA_ROOT/img_dir/test" -o "$WORK_DIR/analysis" \
    --config "$CONFIG" --checkpoint "$CKPT"

LOG=$(ls -t "$WORK_DIR"/*/*.log 2>/dev/null | grep -v '/test/' | head -n1)
MIOU=$(grep -o 'mIoU: [0-9.]*' "$WORK_DIR/test.log" | tail -n1)
cat <<SUMMARY

== quickstart done (training took ${TRAIN_S}s)
   test ${MIOU:-mIoU: (not found, see $WORK_DIR/test.log)}
   training log:       $LOG
   best checkpoint:    $CKPT
   test log:           $WORK_DIR/test.log
   prediction overlays: $SHOW_DIR/vis_data/vis_image/ (ground truth left, prediction right)
   measurements:       $WORK_DIR/analysis/ (summary.csv, particles.csv, report.html)
SUMMARY
