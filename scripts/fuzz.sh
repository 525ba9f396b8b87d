#!/usr/bin/env bash
# Builds the libFuzzer targets in Fuzz/ (Swift, -sanitize=fuzzer,address) and runs each one after the
# other, under nice, until RUNS executions or FUZZ_SECONDS seconds (whichever comes first; 0 = no
# time limit). Fails on any crash, leak report, timeout (> 10 s for one input) or memory blow-up
# (> 2048 MB RSS, or one allocation > 2048 MB); the failing input is kept in .build-fuzz/artifacts/.
#
#   scripts/fuzz.sh                          # every target, 1,000,000 executions each
#   RUNS=200000 scripts/fuzz.sh NPY ONNX     # some targets, fewer executions
#   FUZZ_SECONDS=1800 RUNS=0 scripts/fuzz.sh # every target for 30 minutes (RUNS=0: no run limit)
#   make fuzz RUNS=1000000 SECONDS=1800      # the same knobs through make
#
# Seed corpora are built from the committed fixtures at every run (nothing large is committed);
# the corpus a run grows is kept in .build-fuzz/corpus/<target> and reused by the next run.
# Extra libFuzzer flags: FUZZ_FLAGS="-jobs=1 -max_len=4096".
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
RUNS=${RUNS:-1000000}
FUZZ_SECONDS=${FUZZ_SECONDS:-0}
FUZZ_FLAGS=${FUZZ_FLAGS:-}
SCRATCH=${FUZZ_SCRATCH:-.build-fuzz}
ALL=(SafeTensors NPY Config ONNX Tokenizer Image Torch)
TARGETS=("$@")
[ ${#TARGETS[@]} -eq 0 ] && TARGETS=("${ALL[@]}")
for t in "${TARGETS[@]}"; do
  [ -f "Fuzz/$t/Fuzz$t.swift" ] || { echo "fuzz: unknown target '$t' (targets: ${ALL[*]})" >&2; exit 2; }
done

# --- build -----------------------------------------------------------------------------------------
# SwiftPM's own --sanitize flags pass fuzzer and address as two -sanitize options, of which swiftc
# keeps only the last; one combined -sanitize=fuzzer,address keeps both.
build() {
  VITLENS_FUZZ=1 swift build -c release --scratch-path "$SCRATCH" \
    -Xswiftc -sanitize=fuzzer,address -Xcc -fsanitize=fuzzer-no-link,address --product "Fuzz$1" 2>&1 |
    grep -v "warning: Cannot export local symbol" || true
  [ -x "$SCRATCH/release/Fuzz$1" ] || { echo "fuzz: building Fuzz$1 failed" >&2; exit 1; }
}

# --- seed corpora from the fixtures ----------------------------------------------------------------
SEP=$'\n--8<--\n'
seeds() {  # seeds TARGET DIR
  local t=$1 dir=$2 f i=0
  rm -rf "$dir"; mkdir -p "$dir"
  case $t in
    SafeTensors)
      # Full fixtures are 100-270 KB of weights; the seeds keep each header with a small data section.
      for f in $(find Tests/Fixtures -name '*.safetensors' | sort); do
        i=$((i + 1))
        if command -v python3 >/dev/null; then
          python3 - "$f" "$dir/seed$i" <<'PY'
import json, struct, sys
src, out = sys.argv[1], sys.argv[2]
raw = open(src, "rb").read()
n = struct.unpack("<Q", raw[:8])[0]
header = json.loads(raw[8:8 + n])
data = raw[8 + n:]
meta = header.pop("__metadata__", None)
small, blob = {}, b""
for name, e in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][1] - kv[1]["data_offsets"][0]):
    b, end = e["data_offsets"]
    if len(blob) + end - b > 2048: continue
    small[name] = dict(e, data_offsets=[len(blob), len(blob) + end - b]); blob += data[b:end]
if meta is not None: small["__metadata__"] = meta
h = json.dumps(small, separators=(",", ":")).encode()
open(out, "wb").write(struct.pack("<Q", len(h)) + h + blob)
# The header with every tensor and no data at all: the offsets checks.
open(out + "h", "wb").write(raw[:8 + n])
PY
        else
          head -c 4096 "$f" > "$dir/seed$i"
        fi
      done ;;
    NPY)
      for f in $(find Tests/Fixtures -name '*.npy' -size -16k | sort); do i=$((i + 1)); cp "$f" "$dir/seed$i"; done ;;
    Config)
      for f in $(find Tests/Fixtures -name config.json | sort); do
        i=$((i + 1))
        local p; p="$(dirname "$f")/preprocessor_config.json"
        { cat "$f"; printf '%s' "$SEP"; [ -f "$p" ] && cat "$p"; } > "$dir/seed$i"
      done
      for f in $(find Tests/Fixtures -name '*.json' -path '*processors*' | sort); do
        i=$((i + 1)); { printf '{"model_type": "vit"}%s' "$SEP"; cat "$f"; } > "$dir/seed$i"
      done ;;
    ONNX)
      for f in $(find Tests/Fixtures -name '*.onnx' | sort); do i=$((i + 1)); cp "$f" "$dir/seed$i"; done ;;
    Tokenizer)
      local sentences=("The animal didn't cross the street because it was too tired"
                       "Héllo  WÖRLD [MASK] 中文 naïve café ##ing [SEP] x"
                       "")
      for m in Tests/Fixtures/models/bert-tiny Tests/Fixtures/text/minilm; do
        local tj="$m/tokenizer.json"; [ -f "$tj" ] || tj="$m/tokenizer_skeleton.json"
        for s in "${sentences[@]}"; do
          i=$((i + 1))
          { printf '%s%s' "$s" "$SEP"; [ -f "$tj" ] && cat "$tj"; printf '%s' "$SEP"; printf '%s' "$SEP"
            [ -f "$m/tokenizer_config.json" ] && cat "$m/tokenizer_config.json"; printf '%s' "$SEP"
            [ -f "$m/special_tokens_map.json" ] && cat "$m/special_tokens_map.json"; } > "$dir/seed$i"
          i=$((i + 1))
          { printf '%s%s%s' "$s" "$SEP" "$SEP"; head -n 3000 "$m/vocab.txt"; printf '%s' "$SEP"
            [ -f "$m/tokenizer_config.json" ] && cat "$m/tokenizer_config.json"; printf '%s' "$SEP"
            [ -f "$m/special_tokens_map.json" ] && cat "$m/special_tokens_map.json"; } > "$dir/seed$i"
        done
      done ;;
    Image)
      for f in $(find Tests/Fixtures photos \( -name '*.jpg' -o -name '*.png' \) -size -64k | sort); do
        i=$((i + 1)); cp "$f" "$dir/seed$i"
      done ;;
    Torch)
      # torch.save files in both formats and four dtypes, nested dicts and the hostile files (small).
      for f in $(find Tests/Fixtures/torch \( -name '*.pth' -o -name '*.bin' \) -size -64k | sort); do
        i=$((i + 1)); cp "$f" "$dir/seed$i"
      done ;;
  esac
}

# --- run -------------------------------------------------------------------------------------------
mkdir -p "$SCRATCH/corpus" "$SCRATCH/artifacts" "$SCRATCH/logs" "$SCRATCH/tmp"
failed=()
summary=()
for t in "${TARGETS[@]}"; do
  echo "fuzz: building Fuzz$t"
  build "$t"
  seeds "$t" "$SCRATCH/seeds/$t"
  mkdir -p "$SCRATCH/corpus/$t" "$SCRATCH/artifacts/$t"
  dict=""; [ -f "Fuzz/$t/$t.dict" ] && dict="-dict=Fuzz/$t/$t.dict"
  log="$SCRATCH/logs/$t.log"
  cmd=(nice -n 10 "$SCRATCH/release/Fuzz$t" -runs="$RUNS" -max_total_time="$FUZZ_SECONDS"
       -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=2048 -print_final_stats=1
       -artifact_prefix="$SCRATCH/artifacts/$t/" $dict $FUZZ_FLAGS "$SCRATCH/corpus/$t" "$SCRATCH/seeds/$t")
  [ "$RUNS" = 0 ] && cmd=("${cmd[@]/-runs=0/-runs=-1}")
  echo "fuzz: ${cmd[*]}"
  start=$(date +%s)
  status=0
  # The scratch files of targets that read from files go to $SCRATCH/tmp (removed at exit). Swift's
  # own crash backtracer is off: libFuzzer prints the crash's stack itself, and swift-backtrace
  # processes were seen to outlive the crashed fuzzer.
  SWIFT_BACKTRACE="${SWIFT_BACKTRACE:-enable=no}" TMPDIR="$ROOT/$SCRATCH/tmp" ASAN_OPTIONS="detect_leaks=1:${ASAN_OPTIONS:-}" \
    LSAN_OPTIONS="suppressions=$ROOT/Fuzz/lsan.supp:print_suppressions=0:${LSAN_OPTIONS:-}" \
    "${cmd[@]}" > "$log" 2>&1 || status=$?
  seconds=$(( $(date +%s) - start ))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  line=$(printf '%-12s %10s executions  %6ss  %6s exec/s  ' "$t" "${execs:-?}" "$seconds" "${rate:-?}")
  if [ "$status" -ne 0 ]; then
    failed+=("$t")
    summary+=("$line FAILED (exit $status; log $log; artifacts $SCRATCH/artifacts/$t/)")
    grep -m 3 -E "ERROR: libFuzzer|ERROR: AddressSanitizer|ERROR: LeakSanitizer|Swift runtime failure|Fatal error|==ERROR|SUMMARY" "$log" || true
  else
    summary+=("$line ok")
  fi
  echo "${summary[-1]}"
done
echo "fuzz: summary"
printf '  %s\n' "${summary[@]}"
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: FAILED: ${failed[*]}" >&2
  exit 1
fi
