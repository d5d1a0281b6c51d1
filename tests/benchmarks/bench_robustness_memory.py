"""Peak memory of pybridge on the hostile inputs of the robustness issue, one fresh process each.

Each input runs in its own Python process (``python bench_robustness_memory.py --one NAME``)
and reports its peak resident memory (``ru_maxrss``), so one input's memory does not
hide another's. The acceptance bound is 2 GB per input.

Inputs: a 2-s clip with ``nframes=10**9, uniform=True``; a 1.5 GiB image URL body
(served lazily from 127.0.0.1); a 12000 x 12000 RGBA PNG (2.5 MB file, 576 MB of
pixels) and a 30000 x 30000 PNG (3.9 MB, 900 M pixels), both over the pixel cap; and
the largest images the default cap lets through (9400 x 9400 RGBA and 16-bit grey
PNGs, 88 M pixels), which are decoded and scored.

Examples
--------
.. code-block:: console

    $ python tests/benchmarks/bench_robustness_memory.py
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests.helpers import media  # noqa: E402
from tests.test_robustness import LABELS, _colour_scores, _png_bytes  # noqa: E402

LIMIT_BYTES = 2 * 10**9


def _scorer():
    from pybridge.vision.scoring import FunctionScorer

    return FunctionScorer(_colour_scores, LABELS)


def _serve_huge() -> str:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            size = 3 * 2**29
            self.send_response(200)
            self.send_header("Content-Length", str(size))
            self.end_headers()
            block = b"\0" * 2**16
            try:
                for _ in range(size // len(block)):
                    self.wfile.write(block)
            except OSError:
                return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}/huge.png"


def run_one(name: str, folder: Path) -> dict:
    from pybridge import image_scores, video_scores

    started = time.perf_counter()
    if name == "nframes-1e9-uniform":
        clip = media.make_face_video(folder / "clip.mp4", n_frames=50, fps=25)
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rows = len(video_scores(str(clip), None, nframes=10**9, uniform=True, scorer=_scorer(), progress=False))
        outcome = f"{rows} rows"
    elif name == "url-1.5GiB-body":
        table = image_scores([_serve_huge()], None, scorer=_scorer(), progress=False)
        outcome = f"row reason: {table['reason'][0][:60]}"
    else:
        sizes = {
            "png-12000-rgba-over-cap": (12000, 12000, "RGBA"),
            "png-30000-grey-over-cap": (30000, 30000, "L"),
            "png-9400-rgba-under-cap": (9400, 9400, "RGBA"),
        }
        if name == "png-9400-grey16-under-cap":
            from PIL import Image

            path = folder / "grey16.png"
            Image.fromarray(np.full((9400, 9400), 30000, np.uint16)).save(path)
        else:
            path = folder / f"{name}.png"
            path.write_bytes(_png_bytes(*sizes[name]))
        table = image_scores([str(path)], None, scorer=_scorer(), progress=False)
        outcome = f"face_found={bool(table['face_found'][0])}, reason: {(table['reason'][0] or '')[:60]}"
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {"input": name, "peak_bytes": peak, "seconds": time.perf_counter() - started, "outcome": outcome}


NAMES = [
    "nframes-1e9-uniform",
    "url-1.5GiB-body",
    "png-12000-rgba-over-cap",
    "png-30000-grey-over-cap",
    "png-9400-rgba-under-cap",
    "png-9400-grey16-under-cap",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--one", choices=NAMES, help="run one input in this process and print JSON")
    args = parser.parse_args()
    if args.one:
        with tempfile.TemporaryDirectory() as folder:
            print(json.dumps(run_one(args.one, Path(folder))))
        return
    print(f"{'input':<28}{'peak MB':>9}{'seconds':>9}  outcome")
    worst = 0
    for name in NAMES:
        done = subprocess.run(
            [sys.executable, __file__, "--one", name], capture_output=True, text=True, timeout=600, cwd=REPO
        )
        if done.returncode != 0:
            print(f"{name:<28} failed: {done.stderr.strip().splitlines()[-1:]}")
            continue
        result = json.loads(done.stdout.strip().splitlines()[-1])
        worst = max(worst, result["peak_bytes"])
        print(f"{name:<28}{result['peak_bytes'] / 1e6:>9.0f}{result['seconds']:>9.1f}  {result['outcome']}")
    print(
        f"largest peak {worst / 1e6:.0f} MB; bound {LIMIT_BYTES / 1e6:.0f} MB: {'within' if worst <= LIMIT_BYTES else 'EXCEEDED'}"
    )


if __name__ == "__main__":
    main()
