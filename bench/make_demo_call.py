"""Make the bundled demo call and its script together: resources/demo/demo_call.flac (agent left,
customer right) and resources/demo/demo_call.script.toml (who says what, when). The script is the
rendering's own truth, so the two always agree; run this whenever tests/scenarios.py::demo_call changes.

    python bench/make_demo_call.py
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import soundfile as sf

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests import scenarios  # noqa: E402
from tests.callgen import render  # noqa: E402

HEADER = """# The bundled demo call's script: who says what, and when (seconds on the call clock), made with
# the audio by bench/make_demo_call.py. With no speech model for its language, the demo shows this
# script through the same events a recogniser emits; with one, the demo is transcribed for real.
language = "en-us"
final_delay_s = 0.5    # a recogniser's endpoint: a line's words become final this long after it ends
"""


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        wav, truth = render(scenarios.demo_call(), Path(tmp), Path(tmp) / "cache")
        audio, rate = sf.read(str(wav), dtype="int16")
        sf.write(str(ROOT / "resources/demo/demo_call.flac"), audio, rate, subtype="PCM_16", format="FLAC")
    lines = [HEADER]
    for u in truth.utterances:
        lines.append(f'\n[[line]]\nparty = "{u.party}"\nstart = {u.start}\nend = {u.end}\ntext = {json.dumps(u.text, ensure_ascii=False)}\n')
    (ROOT / "resources/demo/demo_call.script.toml").write_text("".join(lines), encoding="utf-8")
    print(f"demo call: {truth.duration_s:.1f} s, {len(truth.utterances)} lines", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
