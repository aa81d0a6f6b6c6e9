#!/usr/bin/env bash
# Installs the oldest runtime dependency versions pyproject.toml declares (numpy, scipy, numba,
# torch) in a fresh virtual environment and runs the test suite against them.
# Usage: .ci/min_versions.sh [python3.10|python3.11 ...] [pytest args]
# The minimum wheels exist for CPython 3.10 and 3.11 only (numba 0.58 supports <= 3.11).
set -euo pipefail
cd "$(dirname "$0")/.."
python="${1:-python3.11}"
shift || true
venv=.venv-min
rm -rf "$venv"
"$python" -m venv "$venv"
. "$venv/bin/activate"
# Read the minimums from pyproject.toml so this script cannot drift from the metadata.
mins=$(python - <<'PY'
import re
text = open("pyproject.toml").read()
deps = re.search(r"^dependencies = \[(.*?)\]", text, re.S | re.M).group(1)
deps += re.search(r"^torch = \[(.*?)\]", text, re.M).group(1)
print(" ".join(d.replace(">=", "==") for d in re.findall(r'"([^"]+)"', deps)))
PY
)
echo "installing minimums: $mins"
set +e
python -m pip install $mins && python -m pip install --no-deps -e . \
  && python -m pip install "pytest>=7" "hypothesis>=6.80" "POT>=0.9" "tqdm>=4.60" "mpmath>=1.3" \
       "dask[distributed]>=2023.6" "torchmetrics>=1.0" "pytest-timeout>=2.1" $mins \
  && python -m pip list && python -m pytest -p no:cacheprovider "$@"
status=$?
set -e
if [ "$status" -ne 0 ]; then
  echo "min versions: failed (exit $status)" >&2
  exit 1
fi
