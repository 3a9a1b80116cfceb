#!/usr/bin/env bash
# The Rot-MNIST study: CNNBasic with beta = 0, IEN R4, IEN R8, IEN R4 heterogeneous, and the steerable
# (e2cnn C4 and C8) CNNBasic; 3 seeds each, 5 epochs (the configs in configs/cls/), then one collated
# table. The variants that ask when the IEN loss helps are further parts: STUDY="length beta size"
# (20 epochs; beta 0.1 and 10; a 29-px input), STUDY="layers schedule" (only the last block or only the
# first three tapped; beta ramped up over the first half), or any mix with main, e.g. STUDY="main length".
#
#   tools/rotmnist_study.sh OUT [train_cls flags...]
#   tools/rotmnist_study.sh runs/rotmnist --data-root /data/mnist --device cuda   # the docs' table (a folder of MNIST t10k files)
#   SEEDS="0" tools/rotmnist_study.sh runs/rotmnist_quick --max-steps 20                  # a smoke run
#
# Interrupt it at any time: finished runs (OUT/<name>/seed<k>/results.json saying "finished": true) are
# skipped and any other resumes from its last.pt (a --max-steps smoke run is not finished: a later full
# run continues it); a run that fails is reported and the others go on. The table lands in
# OUT/results.md, unfinished runs in rows of their own. PYTHON names the interpreter (default: python).
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-runs/rotmnist}"
shift || true
seeds="${SEEDS:-0 1 2}"
study="${STUDY:-main}"
python="${PYTHON:-python}"
failed=0

# name | config | extra train_cls flags
main_runs="
rotmnist_beta0|rotmnist_beta0|
rotmnist_ien_r4|rotmnist_ien_r4|
rotmnist_ien_r8|rotmnist_ien_r8|
rotmnist_ien_r4_hetero|rotmnist_ien_r4_hetero|
rotmnist_steerable_c4|rotmnist_steerable_c4|
rotmnist_steerable_c8|rotmnist_steerable_c8|"
length_runs="
beta0_20ep|rotmnist_beta0|--epochs 20
ien_r4_20ep|rotmnist_ien_r4|--epochs 20"
beta_runs="
ien_r4_beta0.1|rotmnist_ien_r4|--beta 0.1
ien_r4_beta10|rotmnist_ien_r4|--beta 10"
layers_runs="
ien_r4_last_block|rotmnist_ien_r4|--ien-layers features.block6
ien_r4_first_blocks|rotmnist_ien_r4|--ien-layers features.block1 features.block2 features.block3"
schedule_runs="
ien_r4_ramp0.5|rotmnist_ien_r4|--beta-ramp 0.5"
size_runs="
beta0_29px|rotmnist_beta0|--input-size 29
ien_r4_29px|rotmnist_ien_r4|--input-size 29"

runs=""
for part in $study; do
  case "$part" in
    main) runs="$runs$main_runs" ;;
    length) runs="$runs$length_runs" ;;
    beta) runs="$runs$beta_runs" ;;
    size) runs="$runs$size_runs" ;;
    layers) runs="$runs$layers_runs" ;;
    schedule) runs="$runs$schedule_runs" ;;
    *) echo "STUDY: unknown part '$part' (main, length, beta, size, layers, schedule)" >&2; exit 2 ;;
  esac
done

while IFS='|' read -r name config flags; do
  [ -n "$name" ] || continue
  for seed in $seeds; do
    run="$out/$name/seed$seed"
    if grep -qs '"finished": true' "$run/results.json"; then
      echo "done already: $run"
      continue
    fi
    status=0
    # shellcheck disable=SC2086  # flags split into words on purpose
    "$python" tools/train_cls.py --config "configs/cls/$config.yaml" --name "$name" --seed "$seed" \
      --out "$run" $flags "$@" || status=$?
    [ "$status" -ne 130 ] || exit 130  # Ctrl-C: train_cls saved the run's last.pt; stop the study too
    [ "$status" -eq 0 ] || { echo "FAILED: $run" >&2; failed=1; }
  done
done <<< "$runs"
"$python" tools/train_cls.py --collate "$out"
exit "$failed"
