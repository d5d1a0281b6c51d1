"""The ``pybridge`` command line.

Each sub-command is a thin layer over one public function of :mod:`pybridge`; heavy
modules are imported only by the sub-command that needs them, so ``pybridge --help``
is instant. A :class:`~pybridge.errors.PyBridgeError` is printed as one line
(``error: ...``) with exit status 2; anything else is a bug and keeps its traceback.

Examples
--------
.. code-block:: console

    $ pybridge demo --out report/
    $ pybridge image-scores faces/ --labels happy sad angry --out scores.csv
    $ pybridge video-scores speech.mp4 --labels happy sad --nframes 200 --out speech.csv
    $ pybridge models list
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from .errors import InvalidInputError, PyBridgeError, library_errors


def _read_labels(args: argparse.Namespace) -> list[str] | None:
    """Labels from ``--labels`` and/or ``--labels-file`` (one label per line)."""
    labels = list(args.labels or [])
    if getattr(args, "labels_file", None):
        path = Path(args.labels_file)
        if not path.is_file():
            raise InvalidInputError(f"labels file not found: {path}")
        with library_errors(f"cannot read the labels file {str(path)!r}", "save it as UTF-8 text, one label per line"):
            text = path.read_text(encoding="utf-8")
        labels += [line.strip() for line in text.splitlines() if line.strip()]
    return labels or None


def _write_table(frame, out: str | None) -> None:
    """Write a DataFrame to ``out`` (.csv or .parquet) or print it."""
    if out is None:
        print(frame.to_string(index=False))
        return
    path = Path(out)
    with library_errors(f"cannot write {str(path)!r}", "choose an --out path you can write to"):
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix.lower() == ".parquet":
            frame.to_parquet(path, index=False)
        else:
            frame.to_csv(path, index=False)
    print(f"wrote {len(frame)} rows to {path}", file=sys.stderr)


def _add_model_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", default="oai-base", help="model alias (see `pybridge models list`) [oai-base]")
    parser.add_argument("--local-model-path", default=None, help="load the model from this local folder")
    parser.add_argument("--device", default=None, help="cpu, cuda, cuda:1, mps [automatic]")
    parser.add_argument(
        "--precision",
        default=None,
        choices=["fp32", "bf16", "fp16"],
        help="numeric precision of the model; bf16 on a CPU needs AMX or AVX512-BF16 [fp32 on CPU, fp16 on GPU]",
    )
    parser.add_argument("--batch-size", type=_positive_int, default=16, help="images per forward pass [16]")
    parser.add_argument(
        "--face-selection",
        default="largest",
        choices=["largest", "left", "right", "none", "all"],
        help="which face to score [largest]",
    )
    parser.add_argument(
        "--face-detection-size",
        type=_detection_size,
        default=640,
        help="longest side (pixels) of the copy faces are detected on; 'full' scans full resolution [640]",
    )
    parser.add_argument(
        "--detector",
        default="mtcnn",
        choices=["mtcnn", "blazeface", "haar"],
        help="face detector: mtcnn (confidences, landmarks), blazeface (MediaPipe's full-range detector, "
        "confidences) or haar (transforEmotion's cascade) [mtcnn]",
    )
    parser.add_argument(
        "--face-threshold",
        type=float,
        default=None,
        help="smallest detector confidence in [0, 1] a face needs [0.9 for mtcnn, 0.5 for blazeface]",
    )
    parser.add_argument("--labels", nargs="+", default=None, help="emotion labels, used verbatim")
    parser.add_argument("--labels-file", default=None, help="file with one label per line")


def _positive_int(text: str) -> int:
    """argparse type: a whole number >= 1, refused before anything is loaded."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
    return value


def _detection_size(text: str) -> int | None:
    if text.lower() in ("full", "none"):
        return None
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of pixels or 'full', got {text!r}") from None


# ---------------------------------------------------------------------------- commands


def _cmd_demo(args: argparse.Namespace) -> None:
    from .demo import run_demo

    run_demo(out=args.out, video=args.video, model=args.model, offline=args.offline)


def _scoring_options(args: argparse.Namespace) -> dict:
    """The options image and video scoring share, from the parsed command line."""
    return {
        "face_selection": args.face_selection,
        "face_detection_size": args.face_detection_size,
        "detector": args.detector,
        "face_threshold": args.face_threshold,
        "model": args.model,
        "local_model_path": args.local_model_path,
        "batch_size": args.batch_size,
        "device": args.device,
        "precision": args.precision,
        "progress": True,
    }


def _cmd_image_scores(args: argparse.Namespace) -> None:
    from .vision.image_scoring import image_scores

    images = args.paths[0] if len(args.paths) == 1 else list(args.paths)
    frame = image_scores(
        images, _read_labels(args), pattern=args.pattern, recursive=args.recursive, **_scoring_options(args)
    )
    _write_table(frame, args.out)


def _cmd_video_scores(args: argparse.Namespace) -> None:
    from .vision.video_scoring import video_scores

    videos = args.videos[0] if len(args.videos) == 1 else list(args.videos)
    frame = video_scores(
        videos,
        _read_labels(args),
        nframes=args.nframes,
        start=args.start,
        end=args.end,
        uniform=args.uniform,
        ffreq=args.ffreq,
        out=args.out,
        resume=args.resume,
        save_frames=args.save_frames,
        **_scoring_options(args),
    )
    if args.out is None:
        _write_table(frame, None)
    else:
        print(f"wrote {len(frame)} rows to {args.out}", file=sys.stderr)


def _cmd_batch(args: argparse.Namespace) -> None:
    from .corpus import score_corpus

    options = _scoring_options(args)
    del options["progress"]  # the corpus job shows its own progress
    if args.nframes is not None:
        options["nframes"] = args.nframes
    if args.uniform:
        options["uniform"] = True
    summary = score_corpus(
        args.source, _read_labels(args), args.out, n_workers=args.n_workers, scheduler=args.scheduler, **options
    )
    print(summary)


def _cmd_models(args: argparse.Namespace) -> None:
    from . import models

    if args.action == "list":
        print(models.list_models().to_string(index=False))
        return
    if not args.alias:
        raise InvalidInputError(f"`pybridge models {args.action}` needs a model alias; see `pybridge models list`")
    if args.action == "info":
        for key, value in models.model_info(args.alias).items():
            print(f"{key}: {value}")
    elif args.action == "download":
        path = models.download_model(args.alias)
        print(f"{args.alias}: weights in {path}")
    elif args.action == "remove":
        models.remove_model(args.alias)
        print(f"{args.alias}: removed")


def _cmd_dlo_train(args: argparse.Namespace, rest: Sequence[str]) -> None:
    from .dlo import train

    train.main(list(rest))


def _cmd_dlo_estimate(args: argparse.Namespace) -> None:
    import pandas as pd

    from .dlo import estimate_dlo

    path = Path(args.scores)
    if not path.is_file():
        raise InvalidInputError(f"scores file not found: {path}")
    with library_errors(f"cannot read the scores table {str(path)!r}", "pass a .csv or .parquet scores table"):
        data = pd.read_parquet(path) if path.suffix.lower() == ".parquet" else pd.read_csv(path)
    frame = estimate_dlo(data, dt=args.dt, method=args.method)
    _write_table(frame, args.out)


# ------------------------------------------------------------------------------ parser


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser of the ``pybridge`` command.

    Returns
    -------
    argparse.ArgumentParser
        The parser; each sub-command stores its handler in ``handler``.

    Examples
    --------
    >>> build_parser().parse_args(["models", "list"]).action
    'list'
    """
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="pybridge",
        description="Facial emotion scores from images and videos, emotion time series, dynEGA and DLO dynamics.",
    )
    parser.add_argument("--version", action="version", version=f"pybridge {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = sub.add_parser("demo", help="run the whole workflow on bundled data and write a report")
    demo.add_argument("--out", default="pybridge-demo", help="report folder [pybridge-demo]")
    demo.add_argument("--video", default=None, help="score this clip instead of the bundled one")
    demo.add_argument("--model", default=None, help="model alias for scoring [oai-base, else cnn-fer offline]")
    demo.add_argument("--offline", action="store_true", help="never try to download model weights")
    demo.set_defaults(handler=_cmd_demo)

    images = sub.add_parser("image-scores", help="score faces in images (files, folders, URLs)")
    images.add_argument("paths", nargs="+", help="image files, folders or http(s) URLs")
    _add_model_options(images)
    images.add_argument("--pattern", default=None, help="file-name glob inside folders (e.g. '*.jpg')")
    images.add_argument("--recursive", action="store_true", help="search folders recursively")
    images.add_argument("--out", default=None, help="write the table to this .csv or .parquet file")
    images.set_defaults(handler=_cmd_image_scores)

    video = sub.add_parser("video-scores", help="score sampled frames of videos into emotion time series")
    video.add_argument("videos", nargs="+", help="video files or http(s) URLs")
    _add_model_options(video)
    video.add_argument("--nframes", type=_positive_int, default=100, help="frames to sample [100]")
    video.add_argument("--ffreq", type=_positive_int, default=15, help="score every ffreq-th frame (uniform off) [15]")
    video.add_argument("--uniform", action="store_true", help="spread nframes evenly over the window")
    video.add_argument("--start", type=float, default=0.0, help="window start in seconds [0]")
    video.add_argument("--end", type=float, default=-1.0, help="window end in seconds; -1 = end of file [-1]")
    video.add_argument("--out", default=None, help="write rows incrementally to this .csv or .parquet file")
    video.add_argument("--resume", action="store_true", help="continue an interrupted run writing to --out")
    video.add_argument("--save-frames", default=None, help="also save the scored face crops in this folder")
    video.set_defaults(handler=_cmd_video_scores)

    batch = sub.add_parser("batch", help="score a corpus of videos on Dask, resumable (needs [dist])")
    batch.add_argument("source", help="folder of videos or manifest CSV (column 'video' or 'path')")
    _add_model_options(batch)
    batch.add_argument("--out", required=True, help="output folder (Parquet dataset, one file per video)")
    batch.add_argument("--scheduler", default=None, help="address of an existing Dask scheduler")
    batch.add_argument(
        "--n-workers", type=_positive_int, default=None, help="local worker processes [sized to the machine]"
    )
    batch.add_argument("--nframes", type=_positive_int, default=None, help="frames to sample per video [100]")
    batch.add_argument("--uniform", action="store_true", help="spread nframes evenly over each video")
    batch.set_defaults(handler=_cmd_batch)

    models = sub.add_parser("models", help="list, inspect, download or remove models")
    models.add_argument("action", choices=["list", "info", "download", "remove"])
    models.add_argument("alias", nargs="?", default=None)
    models.set_defaults(handler=_cmd_models)

    dlo = sub.add_parser("dlo", help="damped linear oscillator: train the neural estimator, estimate parameters")
    dlo_sub = dlo.add_subparsers(dest="dlo_command", required=True, metavar="DLO_COMMAND")
    train = dlo_sub.add_parser("train", help="train the neural estimator (options: pybridge dlo train -- --help)")
    train.set_defaults(handler_rest=_cmd_dlo_train)
    estimate = dlo_sub.add_parser("estimate", help="estimate DLO parameters per label column of a scores table")
    estimate.add_argument("scores", help="a video-scores table (.csv or .parquet)")
    estimate.add_argument("--dt", type=float, default=1.0, help="time between rows, in your time unit [1]")
    estimate.add_argument("--method", default="neural", choices=["neural", "kalman", "glla"])
    estimate.add_argument("--out", default=None, help="write the estimates to this file")
    estimate.set_defaults(handler=_cmd_dlo_estimate)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``pybridge`` command.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name; ``sys.argv[1:]`` by default.

    Returns
    -------
    int
        Exit status: 0 on success, 2 for a pybridge error (printed as one line).

    Examples
    --------
    >>> main(["models", "list"])  # doctest: +SKIP
    0
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args, rest = parser.parse_known_args(argv)
    handler_rest: Callable | None = getattr(args, "handler_rest", None)
    try:
        if handler_rest is not None:
            handler_rest(args, [r for r in rest if r != "--"])
        else:
            if rest:
                parser.error(f"unrecognized arguments: {' '.join(rest)}")
            args.handler(args)
    except PyBridgeError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
