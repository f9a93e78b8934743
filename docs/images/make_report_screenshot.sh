#!/usr/bin/env bash
# Repeats docs/images/report.png, the picture of `pgx report` in docs/interpretation.md: a small
# default run (3,000 planted-CTCF sequences, 300 steps), its motifs and its report, taken by
# headless Chromium (Debian: apt-get install chromium) and reduced to 128 colours.
# usage: docs/images/make_report_screenshot.sh [WORKDIR]   (default runs/report_demo)
set -euo pipefail
cd "$(dirname "$0")/../.."
workdir=${1:-runs/report_demo}
pgx=${PGX:-.venv/bin/pgx}
python=${PYTHON:-.venv/bin/python}
out=docs/images/report.png
"$pgx" train --config.data.num_examples=3000 --config.train.num_steps=300 --workdir "$workdir"
"$pgx" motifs --workdir "$workdir"
"$pgx" report --workdir "$workdir"
chromium --headless --disable-gpu --no-sandbox --hide-scrollbars --window-size=1200,2400 \
  --screenshot="$out" "file://$(realpath "$workdir")/report.html"
"$python" -c "
from PIL import Image
image = Image.open('$out').convert('RGB').quantize(colors=128)
image.save('$out', optimize=True)
print('$out', image.size)
"
