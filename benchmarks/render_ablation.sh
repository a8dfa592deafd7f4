#!/usr/bin/env bash
# Render-only ablation at the demo preset (docs/fashiongan.md, "Following the sentence" and "Where control
# was lost first").
#
# Each arm copies a finished demo run's stage 1, text encoder and detectors into its own folder, retrains only
# the compositional render with one change, and evaluates it with --identity none (the networks alone, so the
# numbers say what the render does, not what the identity keep adds).
#
#   bash benchmarks/render_ablation.sh [DEMO_RUN] [ARM ...]      # ARM: a name of the case list below (an
#                                                                 # unknown name prints them all); default
#                                                                 # steps600 l1_10 code100 steps1800 lr2e-4
#   bash benchmarks/render_ablation.sh runs/demo steps1800        # one arm; results in runs/ablation-steps1800
#
# FASHION_GAN: the command to run (default .venv/bin/fashion-gan); ABLATION_EVALUATE_OPTIONS: extra options
# of 'fashion-gan evaluate' (e.g. "--num-test 64"), empty by default; ABLATION_TRAIN_OPTIONS: extra options of
# 'fashion-gan train', after the arm's own (e.g. "--steps 2" for a quick check), empty by default.
set -uo pipefail
cd "$(dirname "$0")/.."
demo=${1:-runs/demo}
shift || true
[ -f "$demo/shape/checkpoints/latest" ] || { echo "render_ablation: $demo has no trained stage 1: run 'make demo' first"; exit 2; }
fg=${FASHION_GAN:-.venv/bin/fashion-gan}
arm() {
    local name=$1
    shift
    local out
    out=$(dirname "$demo")/ablation-$name
    if [ ! -f "$out/evaluation.json" ]; then
        rm -rf "$out" && mkdir -p "$out"
        cp -r "$demo"/{config.json,shape,text_encoder.json,text_encoder.safetensors} "$out"/
        [ -d "$demo/detector" ] && cp -r "$demo/detector" "$out"/  # else evaluate trains the detectors
        local t0=$SECONDS
        # shellcheck disable=SC2086
        "$fg" train --out "$out" --stage render --no-progress "$@" ${ABLATION_TRAIN_OPTIONS:-} >"$out/train.log" 2>&1 || { echo "$name: training failed, see $out/train.log"; return 1; }
        local t1=$SECONDS
        # shellcheck disable=SC2086  # the extra options are meant to split into words
        "$fg" evaluate --run "$out" --identity none --no-progress ${ABLATION_EVALUATE_OPTIONS:-} >"$out/eval.log" 2>&1 || { echo "$name: evaluation failed, see $out/eval.log"; return 1; }
        echo "$name: render trained in $((t1 - t0)) s, evaluated in $((SECONDS - t1)) s"
    fi
    echo "$name: $(grep -m1 'FashionGAN (compositional) | none' "$out/evaluation.md")"
}
arms=("$@")
[ ${#arms[@]} -gt 0 ] || arms=(steps600 l1_10 code100 steps1800 lr2e-4)
for a in "${arms[@]}"; do
    case $a in
        steps600) arm steps600 --steps 600 ;;
        l1_10) arm l1_10 --steps 600 --set train.l1_weight=10 ;;
        code100) arm code100 --steps 600 --set model.code_reduced=100 ;;
        steps1800) arm steps1800 --steps 1800 ;;
        steps3600) arm steps3600 --steps 3600 ;;
        ema1800) arm ema1800 --steps 1800 --set train.ema_decay=0.999 ;;
        ema99_1800) arm ema99_1800 --steps 1800 --set train.ema_decay=0.99 ;;
        emaavg1800) arm emaavg1800 --steps 1800 --set train.ema_decay=0.999 --set train.ema_buffers=average ;;
        hinge1800) arm hinge1800 --steps 1800 --set train.loss=hinge ;;
        lsgan1800) arm lsgan1800 --steps 1800 --set train.loss=lsgan ;;
        lr2e-4) arm lr2e-4 --steps 600 --set train.lr=2e-4 ;;
        film1800) arm film1800 --steps 1800 --set model.code_film=True ;;
        l1down4_1800) arm l1down4_1800 --steps 1800 --set train.l1_downsample=4 ;;
        resize1800) arm resize1800 --steps 1800 --set model.upsample=resize ;;
        resize_l1down4_1800) arm resize_l1down4_1800 --steps 1800 --set model.upsample=resize --set train.l1_downsample=4 ;;
        colors1800) arm colors1800 --steps 1800 --set model.region_colors=True ;;
        l1_300_1800) arm l1_300_1800 --steps 1800 --set train.l1_weight=300 ;;
        ac1800) arm ac1800 --steps 1800 --set model.classifier=True ;;
        aa1800) arm aa1800 --steps 1800 --set model.antialias=0.5 ;;
        ac_aa1800) arm ac_aa1800 --steps 1800 --set model.classifier=True --set model.antialias=0.5 ;;
        ac_aa_resize1800) arm ac_aa_resize1800 --steps 1800 --set model.classifier=True --set model.antialias=0.5 --set model.upsample=resize ;;
        ac_aa_resize_l1_30_1800) arm ac_aa_resize_l1_30_1800 --steps 1800 --set model.classifier=True --set model.antialias=0.5 --set model.upsample=resize --set train.l1_weight=30 ;;
        ac_aa_resize_deconvlast1800) arm ac_aa_resize_deconvlast1800 --steps 1800 --set model.classifier=True --set model.antialias=0.5 --set model.upsample=resize --set model.final_upsample=deconv ;;
        ac_aa_resize_garment30_1800) arm ac_aa_resize_garment30_1800 --steps 1800 --set model.classifier=True --set model.antialias=0.5 --set model.upsample=resize --set "train.l1_label_weights=(1,1,1,0.3,0.3,1,1)" ;;
        ac_aa_resize_garment30_ema99_1800) arm ac_aa_resize_garment30_ema99_1800 --steps 1800 --set model.classifier=True --set model.antialias=0.5 --set model.upsample=resize --set "train.l1_label_weights=(1,1,1,0.3,0.3,1,1)" --set train.ema_decay=0.99 ;;
        ac_aa_resize_l1_30_ema99_1800) arm ac_aa_resize_l1_30_ema99_1800 --steps 1800 --set model.classifier=True --set model.antialias=0.5 --set model.upsample=resize --set train.l1_weight=30 --set train.ema_decay=0.99 ;;
        ac_aa_resize_l1_30_skin100_ema99_1800) arm ac_aa_resize_l1_30_skin100_ema99_1800 --steps 1800 --set model.classifier=True --set model.antialias=0.5 --set model.upsample=resize --set train.l1_weight=30 --set "train.l1_label_weights=(1,3.333,3.333,1,1,1,3.333)" --set train.ema_decay=0.99 ;;
        ac_aa_resize_ema99_1800) arm ac_aa_resize_ema99_1800 --steps 1800 --set model.classifier=True --set model.antialias=0.5 --set model.upsample=resize --set train.ema_decay=0.99 ;;
        *) echo "render_ablation: unknown arm $a (expected steps600, l1_10, code100, steps1800, steps3600, ema1800, ema99_1800, emaavg1800, hinge1800, lsgan1800, lr2e-4, film1800, l1down4_1800, resize1800, resize_l1down4_1800, colors1800, l1_300_1800, ac1800, aa1800, ac_aa1800, ac_aa_resize1800, ac_aa_resize_l1_30_1800, ac_aa_resize_ema99_1800, ac_aa_resize_deconvlast1800, ac_aa_resize_garment30_1800, ac_aa_resize_garment30_ema99_1800, ac_aa_resize_l1_30_ema99_1800, ac_aa_resize_l1_30_skin100_ema99_1800)"; exit 2 ;;
    esac
done
