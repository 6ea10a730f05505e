#!/bin/sh
# Regenerates the ThreatExchange / HMA fixtures of tests/watch/test_pdq_exchange.py with
# Meta's own `threatexchange` package (not a dependency of Tocsin: run it in a separate venv):
#   python3 -m venv /tmp/te && /tmp/te/bin/pip install threatexchange==1.2.17 py-tlsh
#   PATH=/tmp/te/bin:$PATH sh tests/watch/data/make_fixtures.sh
# scene_a.png and scene_b.png are synthetic pictures drawn with Pillow (no real content).
set -eu
cd "$(dirname "$0")"
export HOME="$(mktemp -d)"  # threatexchange keeps its state under ~/.threatexchange
threatexchange config extensions add threatexchange.extensions.tlsh >/dev/null
{
  threatexchange hash photo scene_a.png scene_b.png
  threatexchange hash video scene_a.png
  threatexchange hash text -- "$(cat sample_text.txt)"
} > te_hash.txt
# The same lines read back through its local-file exchange, then printed as its dataset CSV
# (without the TLSH extension: threatexchange 1.2.17's fetch fails building a text_tlsh index).
threatexchange config extensions remove threatexchange.extensions.tlsh >/dev/null
threatexchange config collab edit local_file --create --filename "$PWD/te_hash.txt" partner-x
threatexchange fetch >/dev/null 2>&1
threatexchange dataset --print-signals --csv > te_dataset.csv
# HMA's GET /h/hash answer: {signal_type.get_name(): signal_type.hash_from_bytes(file)} for the
# signal types of the content type (OpenMediaMatch/blueprints/hashing.py does exactly this).
python3 - <<'PY'
import json
from threatexchange.signal_type.md5 import VideoMD5Signal
from threatexchange.signal_type.pdq.signal import PdqSignal

data = open("scene_b.png", "rb").read()
answer = {s.get_name(): s.hash_from_bytes(data) for s in (PdqSignal,)}
bank = [{s.get_name(): s.hash_from_bytes(open(f, "rb").read()), "note": "from HMA"}
        for f in ("scene_a.png",) for s in (PdqSignal, VideoMD5Signal)]
with open("hma_hash.json", "w") as out:
    json.dump(answer, out)
with open("hma_bank_signals.json", "w") as out:
    json.dump(bank, out, indent=1)
PY
rm -rf "$HOME"
