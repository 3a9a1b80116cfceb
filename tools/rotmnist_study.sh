#!/usr/bin/env bash
# The Rot-MNIST study: CNNBasic with beta = 0, IEN R4, IEN R8, IEN R4 heterogeneous, and the steerable
# (e2cnn C4) CNNBasic; 3 seeds each, 5 epochs (the configs in configs/cls/), then one collated table.
#
#   tools/rotmnist_study.sh [OUT] [train_cls flags...]
#   tools/rotmnist_study.sh runs/rotmnist --data-root ~/data/mnist --device cuda
#   SEEDS="0" tools/rotmnist_study.sh runs/rotmnist_quick --train-limit 2000
#
# Interrupt it at any time: finished runs (OUT/<config>/seed<k>/results.json) are skipped and an
# unfinished one resumes from its last.pt. The table lands in OUT/results.md.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-runs/rotmnist}"
shift || true
seeds="${SEEDS:-0 1 2}"
configs="rotmnist_beta0 rotmnist_ien_r4 rotmnist_ien_r8 rotmnist_ien_r4_hetero rotmnist_steerable_c4"
for config in $configs; do
  for seed in $seeds; do
    run="$out/$config/seed$seed"
    if [ -f "$run/results.json" ]; then
      echo "done already: $run"
      continue
    fi
    python tools/train_cls.py --config "configs/cls/$config.yaml" --seed "$seed" --out "$run" --resume "$@"
  done
done
python tools/train_cls.py --collate "$out"
