"""FindingEmo helpers on the synthetic folders of tests/fixtures/findingemo; the
download runs against a stand-in findingemo-light package and a stubbed opener, never
the network."""

from __future__ import annotations

import json
import sys
import types
import urllib.error

import pandas as pd
import pytest

import pybridge.findingemo as findingemo
from pybridge.errors import DownloadError, InvalidInputError, MissingDependencyError
from pybridge.findingemo import (
    check_findingemo_quality,
    download_findingemo_data,
    load_findingemo_annotations,
    map_to_emo8,
    prepare_findingemo_evaluation,
)


@pytest.fixture
def folders(reference_fixtures):
    return reference_fixtures / "findingemo"


def test_map_to_emo8_covers_the_wheel_and_warns_on_others():
    wheel = [
        "Joy",
        "Serenity",
        "Ecstasy",
        "Trust",
        "Acceptance",
        "Admiration",
        "Fear",
        "Apprehension",
        "Terror",
        "Surprise",
        "Distraction",
        "Amazement",
        "Sadness",
        "Pensiveness",
        "Grief",
        "Disgust",
        "Boredom",
        "Loathing",
        "Anger",
        "Annoyance",
        "Rage",
        "Anticipation",
        "Interest",
        "Vigilance",
    ]
    mapped = map_to_emo8(wheel)
    assert mapped == [
        basic
        for basic in ["joy", "trust", "fear", "surprise", "sadness", "disgust", "anger", "anticipation"]
        for _ in range(3)
    ]
    assert map_to_emo8([" rage ", None]) == ["anger", None]
    with pytest.warns(UserWarning, match=r"1 of 2 emotions are not on Plutchik's wheel.*\['Love'\]"):
        assert map_to_emo8(["Joy", "Love"]) == ["joy", None]
    with pytest.raises(InvalidInputError, match="not a single string"):
        map_to_emo8("Joy")
    with pytest.raises(InvalidInputError, match="must be strings"):
        map_to_emo8([1, 2])
    assert map_to_emo8([]) == []


@pytest.mark.parametrize("layout", ["flat", "standard"])
def test_load_annotations_from_both_layouts(folders, layout):
    annotations = load_findingemo_annotations(folders / layout)
    assert annotations.shape == (6, 7)
    assert annotations["emotion"].tolist() == ["Joy", "Serenity", "Rage", "Grief", "Interest", "Terror"]
    full = load_findingemo_annotations(folders / layout, output_format="list")
    assert full["urls"]["img_0003"] == "https://images.example.org/img_0003.jpg"
    assert full["annotations"].equals(annotations)
    if layout == "standard":
        assert full["metadata"] == {
            "n_annotations": 6,
            "n_urls": 6,
            "columns": list(annotations.columns),
            "structure": "standard",
        }
    else:
        assert full["metadata"]["structure"] == "flat"


def test_load_annotations_bad_input(folders, tmp_path):
    with pytest.raises(InvalidInputError, match="does not exist"):
        load_findingemo_annotations(tmp_path / "nothing")
    with pytest.raises(InvalidInputError, match="holds no FindingEmo data"):
        load_findingemo_annotations(tmp_path)
    with pytest.raises(InvalidInputError, match="output_format must be"):
        load_findingemo_annotations(folders / "flat", output_format="json")
    (tmp_path / "annotations.csv").write_text("image_id\n", encoding="utf-8")
    (tmp_path / "urls.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(InvalidInputError, match="could not read .* as JSON"):
        load_findingemo_annotations(tmp_path, output_format="list")


def test_quality_report_counts_and_checks_images(folders):
    report = check_findingemo_quality(folders / "flat", check_images=True, sample_size=10, seed=1)
    assert report["structure"] == "flat"
    assert (report["annotations_count"], report["urls_count"], report["images_count"]) == (6, 6, 4)
    assert report["completeness"] == 66.7
    assert report["image_check"] == {"sample_size": 4, "readable": 3, "readability_rate": 75.0}
    standard = check_findingemo_quality(folders / "standard")
    assert standard["structure"] == "standard" and standard["images_count"] == 0
    assert standard["completeness"] == 0.0 and standard["image_check"] is None
    with pytest.raises(InvalidInputError, match="sample_size must be a positive"):
        check_findingemo_quality(folders / "flat", sample_size=0)


def test_prepare_evaluation_joins_renames_and_feeds_evaluate(folders):
    annotations = load_findingemo_annotations(folders / "flat")
    annotations["emo8_label"] = map_to_emo8(annotations["emotion"])
    predictions = pd.DataFrame(
        {
            "image_id": ["img_0003", "img_0001", "img_0002", "img_0009", "img_0004"],
            "predicted_emotion": ["anger", "joy", "sadness", "joy", None],
            "prob_joy": [0.1, 0.8, 0.3, 0.9, 0.5],
        }
    )
    with pytest.warns(UserWarning, match="dropped 1 of 4 joined rows"):
        table = prepare_findingemo_evaluation(annotations, predictions, truth_col="emo8_label")
    assert table.columns.tolist() == ["id", "truth", "valence", "arousal", "pred", "prob_joy"]
    assert table["id"].tolist() == ["img_0001", "img_0002", "img_0003"]
    assert table["truth"].tolist() == ["joy", "joy", "anger"]
    assert table["pred"].tolist() == ["joy", "sadness", "anger"]
    from pybridge import evaluate_emotions

    assert evaluate_emotions(table, truth="truth", pred="pred").accuracy == pytest.approx(2 / 3)
    without_va = prepare_findingemo_evaluation(annotations, predictions.dropna(), truth_col="emotion", include_va=False)
    assert "valence" not in without_va.columns


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (dict(truth_col="emotion_label"), r"annotations lack the column\(s\) \['emotion_label'\]"),
        (dict(pred_col="guess"), r"predictions lack the column\(s\) \['guess'\]"),
        (dict(id_col="id"), r"lack the column\(s\) \['id'"),
        (dict(include_va="yes"), "include_va must be True or False"),
    ],
)
def test_prepare_evaluation_bad_input(folders, change, message):
    annotations = load_findingemo_annotations(folders / "flat")
    predictions = pd.DataFrame({"image_id": ["img_0001"], "predicted_emotion": ["joy"]})
    with pytest.raises(InvalidInputError, match=message):
        prepare_findingemo_evaluation(annotations, predictions, **{"truth_col": "emotion", **change})


def test_prepare_evaluation_empty_join_and_non_frames(folders):
    annotations = load_findingemo_annotations(folders / "flat")
    with pytest.raises(InvalidInputError, match="no 'image_id' value is in both"):
        prepare_findingemo_evaluation(
            annotations, pd.DataFrame({"image_id": ["x"], "predicted_emotion": ["joy"]}), truth_col="emotion"
        )
    with pytest.raises(InvalidInputError, match="predictions must be a data frame"):
        prepare_findingemo_evaluation(annotations, [1], truth_col="emotion")


# ------------------------------------------------------------------------- download


def test_download_offline_is_a_typed_error(tmp_path):
    # the test session runs with HF_HUB_OFFLINE=1
    with pytest.raises(DownloadError, match="needs the network, and this session is offline"):
        download_findingemo_data(tmp_path / "out", max_images=2)
    with pytest.raises(InvalidInputError, match="max_images must be a positive"):
        download_findingemo_data(tmp_path / "out", max_images=0)


@pytest.fixture
def fake_package(monkeypatch, folders, tmp_path):
    """findingemo-light stand-in holding the standard fixture; online mode."""
    package = tmp_path / "findingemo_light"
    (package / "data").mkdir(parents=True)
    for name in ("annotations_single.ann", "dataset_urls_exploded.json"):
        (package / "data" / name).write_bytes((folders / "standard" / "data" / name).read_bytes())
    module = types.ModuleType("findingemo_light")
    module.__file__ = str(package / "__init__.py")
    monkeypatch.setitem(sys.modules, "findingemo_light", module)
    monkeypatch.setattr(findingemo, "_offline", lambda: False)
    return package


def test_download_writes_the_flat_layout(monkeypatch, fake_package, tmp_path):
    fetched = []

    def fake_fetch(url, path):
        fetched.append(url)
        if url.endswith("img_0002.jpg"):
            raise urllib.error.HTTPError(url, 404, "Not Found", None, None)
        path.write_bytes(b"\xff\xd8 image bytes")

    monkeypatch.setattr(findingemo, "_fetch", fake_fetch)
    target = tmp_path / "findingemo"
    result = download_findingemo_data(target, max_images=3)
    assert result == {
        "success": True,
        "skipped": False,
        "target_dir": str(target),
        "selected": 3,
        "image_count": 2,
        "failed": 1,
        "annotations_count": 3,
    }
    assert sorted(p.name for p in (target / "images").iterdir()) == ["img_0001.jpg", "img_0003.jpg"]
    assert list(json.loads((target / "urls.json").read_text())) == ["img_0001", "img_0002", "img_0003"]
    assert load_findingemo_annotations(target)["image_id"].tolist() == ["img_0001", "img_0002", "img_0003"]
    # a second call finds the folder and does nothing; force fetches what is missing
    assert download_findingemo_data(target)["skipped"] is True
    fetched.clear()
    download_findingemo_data(target, max_images=3, force=True)
    assert fetched == ["https://images.example.org/img_0002.jpg"]
    randomized = download_findingemo_data(tmp_path / "random", max_images=2, randomize=True, seed=3)
    assert randomized["selected"] == 2


def test_download_without_network_or_package(monkeypatch, fake_package, tmp_path):
    def unreachable(url, path):
        raise urllib.error.URLError(OSError("[Errno -3] Temporary failure in name resolution"))

    monkeypatch.setattr(findingemo, "_fetch", unreachable)
    with pytest.raises(DownloadError, match="none of the 2 FindingEmo images could be fetched"):
        download_findingemo_data(tmp_path / "out", max_images=2)
    monkeypatch.setitem(sys.modules, "findingemo_light", None)
    with pytest.raises(MissingDependencyError, match="pip install findingemo-light"):
        download_findingemo_data(tmp_path / "out2", max_images=2)


def test_download_fetches_through_the_bounded_image_fetch(monkeypatch, fake_package, tmp_path):
    import requests

    from pybridge.vision import images

    def no_connection(url, timeout=None):
        # what fetch_url raises when the name cannot be resolved
        try:
            raise requests.ConnectionError("Failed to resolve 'images.example.org'")
        except requests.ConnectionError as err:
            raise DownloadError(f"could not fetch {url!r}: {err}") from err

    monkeypatch.setattr(findingemo, "fetch_url", no_connection)
    with pytest.raises(DownloadError, match="none of the 2 FindingEmo images could be fetched: the network"):
        download_findingemo_data(tmp_path / "out", max_images=2)

    def too_large(url, timeout=None):
        raise DownloadError(images._too_large(url, 10, "its body is larger"))

    monkeypatch.setattr(findingemo, "fetch_url", too_large)
    result = download_findingemo_data(tmp_path / "big", max_images=2)
    assert result["failed"] == 2 and result["image_count"] == 0  # refused images are failures, not "offline"
