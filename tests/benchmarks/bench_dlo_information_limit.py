"""How well could any network do at T = 100 if it knew what the shipped one cannot?

The shipped DLO network must serve every length (50-1000 frames) and every noise
level (none to 50 % of the process sd), so it infers both from the series. This
benchmark trains, with the same architecture, loss and optimiser, networks that are
*told* part of the answer, and scores them next to the shipped weights on the two
T = 100 conditions of ``bench_dlo_recovery.py`` (same held-out series):

* ``told T=100 and no noise``: trained only on 100-frame series from the supported
  range without measurement noise (an oracle for the noise-free condition);
* ``told T=100 and noise 10 %``: trained only on 100-frame series with noise exactly
  10 % of the stationary sd (an oracle for the noisy condition);
* ``told T=100 only``: trained only on 100-frame series, with the shipped prior for
  everything else (noise unknown).

Each trains for ``--steps`` steps (default 8000, about 4-5 minutes each on one core).
The gap between an oracle and ``told T=100 only`` is what knowing the noise level is
worth; the gap between ``told T=100 only`` and the shipped network is what knowing the
length is worth.

Run::

    python tests/benchmarks/bench_dlo_information_limit.py [--out DIR] [--steps 8000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

from bench_dlo_recovery import DT, MIN_R, simulate_conditions
from pybridge.dlo.neural import estimate_neural
from pybridge.dlo.train import TrainingPrior, train

SPECIALISTS = {
    "told T=100 and no noise": TrainingPrior(
        supported_share=1.0, zero_noise_probability=1.0, gap_probability=0.0,
        typical_length=(100, 100), typical_length_probability=1.0,
    ),
    "told T=100 and noise 10 %": TrainingPrior(
        supported_share=1.0, zero_noise_probability=0.0, gap_probability=0.0,
        noise_share=(0.1, 0.1), supported_noise_share=(0.1, 0.1),
        typical_length=(100, 100), typical_length_probability=1.0,
    ),
    "told T=100 only": TrainingPrior(typical_length=(100, 100), typical_length_probability=1.0),
}


def _r_with_interval(estimate: np.ndarray, truth: np.ndarray) -> str:
    r = float(np.corrcoef(estimate, truth)[0, 1])
    half_width = 1.96 / np.sqrt(len(truth) - 3)
    low, high = np.tanh(np.arctanh(r) + np.array([-half_width, half_width]))
    return f"{r:.3f} [{low:.3f}, {high:.3f}]"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="folder for the trained networks")
    parser.add_argument("--steps", type=int, default=8000)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    out = args.out or Path(tempfile.mkdtemp(prefix="dlo_information_limit_"))

    networks: dict[str, Path | None] = {"shipped network": None}
    for index, (name, prior) in enumerate(SPECIALISTS.items()):
        folder = out / f"specialist_{index}"
        if not (folder / "dlo_cnn_lstm.safetensors").is_file():
            print(f"training '{name}' ({args.steps} steps) into {folder}", file=sys.stderr, flush=True)
            train(folder, seed=0, steps=args.steps, threads=1, prior=prior, log_every=1000)
        networks[name] = folder

    conditions = simulate_conditions()[:2]  # T = 100 without and with 10 % noise
    print(f"Pearson r with the truth [95 % interval], 200 held-out series per condition "
          f"(goals: eta {MIN_R['eta']}, zeta {MIN_R['zeta']}); RMSE in brackets")
    for data in conditions:
        print(f"\n{data['name']}")
        for name, folder in networks.items():
            table = estimate_neural(list(data["y"]), dt=DT, weights_dir=folder)
            cells = []
            for parameter in ("eta", "zeta"):
                estimate = table[parameter].to_numpy()
                truth = data["truth"][parameter].to_numpy()
                rmse = float(np.sqrt(np.mean((estimate - truth) ** 2)))
                cells.append(f"{parameter} r {_r_with_interval(estimate, truth)} (RMSE {rmse:.3f})")
            print(f"  {name:28s} " + "   ".join(cells))
    return 0


if __name__ == "__main__":
    sys.exit(main())
