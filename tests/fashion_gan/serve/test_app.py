"""The demo's HTTP API through Starlette's test client: every route, and every bad input a clear 4xx.

The demo under test serves the shared tiny run (32x32 people; compositional, ih1_skip and onestep_87 trained,
plain, ih1 and onestep_84 not).
"""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
import torch
from fashion_gan.cli.commands import DEMO_SENTENCES
from fashion_gan.data.contract import LABEL_NAMES
from fashion_gan.inference.identity import HAIR_AND_FACE
from PIL import Image

from .conftest import GALLERY, png

SIZE = 32
SENTENCE = "the lady wore a blue sleeveless dress."


def decode(url: str) -> np.ndarray:
    """A data URL's PNG as an array."""
    assert url.startswith("data:image/png;base64,"), url[:40]
    with Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))) as im:
        return np.asarray(im.convert("RGB"))


def redress(client, data=None, files=None, route="redress"):
    data = {"person": "0", "sentence": SENTENCE, "model": "compositional", **(data or {})}
    return client.post(f"/api/{route}", data={k: v for k, v in data.items() if v is not None}, files=files)


def assert_error(response, status: int, *fragments: str) -> str:
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/json")
    message = response.json()["error"]
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    return message


# The page and its files.


def test_page_and_its_files_come_from_this_server(client):
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    for asset in ("/static/app.js", "/static/app.css"):
        assert asset in html
        response = client.get(asset)
        assert response.status_code == 200 and len(response.content) > 500
    # Offline: the page, its script and style name no other host.
    for text in (html, client.get("/static/app.js").text, client.get("/static/app.css").text):
        assert "http://" not in text and "https://" not in text and "//cdn" not in text


def test_info_lists_only_the_trained_models_and_everything_the_page_needs(client):
    info = client.get("/api/info").json()
    assert [m["name"] for m in info["models"]] == ["compositional", "ih1_skip", "onestep_87"]
    assert [m["two_stage"] for m in info["models"]] == [True, True, False]
    assert info["models"][0]["title"] == "FashionGAN (compositional)"
    assert info["identity_modes"] == ["structural", "none", "official"]
    assert info["image_size"] == SIZE
    assert info["people"]["thumbnails"] == GALLERY and info["people"]["count"] == 16
    assert len(info["people"]["sentences"]) == GALLERY
    assert [entry["name"] for entry in info["legend"]] == list(LABEL_NAMES)
    assert len(info["vocabulary"]) == 539 and info["vocabulary"][:3] == ["the", "lady", "was"]
    assert info["grid_sentences"] == list(DEMO_SENTENCES)
    assert info["max_upload_bytes"] == 4 * 1024 * 1024


@pytest.mark.parametrize("kind", ["image", "labels"])
def test_thumbnails_are_pngs_of_the_gallery_people(client, demo_app, kind):
    response = client.get(f"/api/people/{GALLERY - 1}/{kind}.png")
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    with Image.open(io.BytesIO(response.content)) as im:
        assert im.size == (SIZE, SIZE)
    person = demo_app.state.demo.gallery.person(GALLERY - 1)
    if kind == "image":
        expected = person["image"][0].permute(1, 2, 0).numpy()
        assert np.array_equal(
            decode("data:image/png;base64," + base64.b64encode(response.content).decode()), expected
        )


def test_thumbnail_errors(client):
    assert_error(client.get(f"/api/people/{GALLERY}/image.png"), 404, f"[0, {GALLERY - 1}]", str(GALLERY))
    assert_error(client.get("/api/people/0/face.png"), 404, "'image' or 'labels'", "'face'")


# Checking words as they are typed.


def test_check_flags_unknown_words_and_accepts_known_ones(client):
    ok = client.get("/api/check", params={"sentence": SENTENCE}).json()
    assert ok["ok"] and ok["unknown"] == [] and ok["message"] == ""
    assert ok["words"] == ["the", "lady", "wore", "a", "blue", "sleeveless", "dress"]
    bad = client.get(
        "/api/check", params={"sentence": "the lady wore a glittery zebra glittery dress"}
    ).json()
    assert not bad["ok"] and bad["unknown"] == ["glittery", "zebra"]
    assert bad["message"] == "unknown words: 'glittery', 'zebra' (not in the 539-word vocabulary)"
    empty = client.get("/api/check").json()
    assert not empty["ok"] and empty["message"].startswith("sentence: type a sentence")
    long = client.get("/api/check", params={"sentence": "the lady " * 40}).json()
    assert not long["ok"] and "expected at most 300 characters, got 360" in long["message"]


# Redressing.


@pytest.mark.parametrize("identity", ["structural", "none", "official"])
def test_redress_a_test_person_shows_input_segmentation_and_render(client, demo_app, identity):
    response = redress(client, {"identity": identity, "seed": "3"})
    assert response.status_code == 200, response.text
    result = response.json()
    assert (result["model"], result["identity"], result["seed"], result["sentence"]) == (
        "compositional",
        identity,
        3,
        SENTENCE,
    )
    images = {name: decode(url) for name, url in result["images"].items()}
    assert all(image.shape == (SIZE, SIZE, 3) for image in images.values())
    # The same person, sentence, model, mode and seed through the library give the same picture.
    demo = demo_app.state.demo
    person = demo.gallery.person(0)
    with demo.redressers.lock:
        out = demo.redressers.get("compositional").redress(person, [SENTENCE], seed=3, identity=identity)
    assert np.array_equal(images["output"], out["images"][0, 0].permute(1, 2, 0).numpy())
    assert np.array_equal(images["input"], person["image"][0].permute(1, 2, 0).numpy())
    colours = {tuple(c) for c in images["segmentation"].reshape(-1, 3)}
    legend = {tuple(int(entry["color"][i : i + 2], 16) for i in (1, 3, 5)) for entry in demo.info()["legend"]}
    assert colours <= legend
    assert 0.0 < result["seconds"] < 30


def test_structural_identity_keeps_the_inputs_hair_and_face_pixels(client, demo_app):
    result = redress(client, {"identity": "structural"}).json()
    person = demo_app.state.demo.gallery.person(0)
    kept = torch.isin(person["labels"][0], torch.tensor(HAIR_AND_FACE)).numpy()
    assert kept.any()
    output, source = decode(result["images"]["output"]), decode(result["images"]["input"])
    assert np.array_equal(output[kept], source[kept])


def test_redress_with_a_one_step_model_has_no_segmentation(client):
    result = redress(client, {"model": "onestep_87"}).json()
    assert result["two_stage"] is False and result["images"]["segmentation"] is None
    assert decode(result["images"]["output"]).shape == (SIZE, SIZE, 3)


def test_the_seed_changes_the_noise_and_fixes_it(client):
    a, b, c = (redress(client, {"seed": s}).json()["images"]["output"] for s in ("1", "2", "1"))
    assert a == c and a != b


def test_redress_an_uploaded_person(client, upload):
    image, labels = upload(5)
    files = {"image": ("me.png", image, "image/png"), "labels": ("me_labels.png", labels, "image/png")}
    preview = client.post("/api/person", files=files)
    assert preview.status_code == 200, preview.text
    assert np.array_equal(
        decode(preview.json()["images"]["input"]), np.asarray(Image.open(io.BytesIO(image)))
    )
    result = redress(client, {"person": None}, files=files)
    assert result.status_code == 200, result.text
    via_index = redress(client, {"person": "5"}).json()
    assert result.json()["images"]["output"] == via_index["images"]["output"]


def test_grid_is_the_person_in_the_eight_demo_sentences(client):
    response = redress(client, {"sentence": None, "seed": "1"}, route="grid")
    assert response.status_code == 200, response.text
    grid = response.json()
    assert grid["sentences"] == list(DEMO_SENTENCES) and grid["seed"] == 1
    picture = decode(grid["image"])
    # redress_grid: 9 cells (the person, then 8 sentences) of 32x32 padded by 2, scaled x2, captions on top.
    assert picture.shape[1] == 9 * (SIZE + 4) * 2 and picture.shape[0] > (SIZE + 4) * 2


def test_loss_curves_png(client):
    response = client.get("/api/loss-curves.png")
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    with Image.open(io.BytesIO(response.content)) as im:
        assert im.size == (1000, 640)  # 4 models with metrics: 2 x 2 panels of 500 x 320
    assert client.get("/api/loss-curves.png").content == response.content  # drawn once, then cached


# Bad input: a message naming what was wrong, a 4xx, and the server goes on.


def test_unknown_words_are_named(client):
    message = assert_error(
        redress(client, {"sentence": "the lady wore a glittery dress."}), 400, "'glittery'"
    )
    assert "539-word vocabulary" in message
    assert_error(redress(client, {"sentence": "   "}), 400, "sentence: type a sentence")


def test_a_model_the_run_does_not_have(client):
    assert_error(
        redress(client, {"model": "ih1"}),
        404,
        "'ih1' is not trained in this run",
        "compositional, ih1_skip, onestep_87",
    )
    assert_error(redress(client, {"model": "onestep_84"}, route="grid"), 404, "'onestep_84' is not trained")
    assert_error(redress(client, {"model": "prada"}), 400, "model: expected one of", "got 'prada'")


def test_bad_identity_seed_and_person(client):
    assert_error(redress(client, {"identity": "twin"}), 400, "identity: expected one of", "'twin'")
    assert_error(redress(client, {"seed": "abc"}), 400, "seed: expected an int, got 'abc'")
    assert_error(redress(client, {"seed": "-1"}), 400, "seed: expected an int in [0, 2147483647], got -1")
    assert_error(redress(client, {"person": "99"}), 404, "person: expected a test person in [0, 15], got 99")
    assert_error(redress(client, {"person": "x"}), 400, "person: expected an int, got 'x'")
    assert_error(redress(client, {"person": None}), 400, "person: expected a test person's index")


def test_uploads_of_the_wrong_size_ids_or_format(client, upload):
    image, labels = upload()

    def post(image_file, labels_file):
        files = {"image": ("me.png", image_file), "labels": ("me_labels.png", labels_file)}
        return client.post("/api/person", files=files)

    small = png(np.zeros((16, 16, 3), np.uint8))
    assert_error(post(small, labels), 400, "image me.png: expected a 32x32 image for this run, got 16x16")
    assert_error(
        post(image, png(np.zeros((32, 40), np.uint8))),
        400,
        "label map me_labels.png: expected a 32x32 image for this run, got 40x32",
    )
    seven = png(np.full((32, 32), 7, np.uint8))
    assert_error(
        post(image, seven), 400, "label map me_labels.png: expected label ids 0..6, got a pixel value 7"
    )
    assert_error(post(b"not a picture", labels), 400, "image me.png: not a readable image")
    assert_error(post(b"", labels), 400, "image me.png: the file is empty")
    only_image = client.post("/api/person", files={"image": ("me.png", image)})
    assert_error(only_image, 400, "expected both the image and its label map, got no labels")
    # The same checks guard a redress.
    files = {"image": ("me.png", small), "labels": ("me_labels.png", labels)}
    assert_error(redress(client, {"person": None}, files=files), 400, "expected a 32x32 image")


def test_a_huge_picture_is_refused_from_its_header(client, upload):
    # 6000 x 6000 black pixels compress to about 100 kB: refused from the header, never decoded.
    huge = png(np.zeros((6000, 6000, 3), np.uint8))
    assert len(huge) < 4 * 1024 * 1024
    _, labels = upload()
    files = {"image": ("huge.png", huge), "labels": ("labels.png", labels)}
    assert_error(client.post("/api/person", files=files), 400, "expected a 32x32 image", "got 6000x6000")


def test_uploads_over_the_cap_are_refused(client):
    big = b"\0" * (4 * 1024 * 1024 + 1)
    response = client.post("/api/person", files={"image": ("big.png", big), "labels": ("l.png", b"x")})
    assert_error(response, 413, "upload: expected at most 4.0 MiB")

    def chunks():  # no Content-Length: the streamed bytes are counted
        for _ in range(5):
            yield b"\0" * (1024 * 1024)

    headers = {"content-type": "multipart/form-data; boundary=xyz"}
    streamed = client.post("/api/person", content=chunks(), headers=headers)
    assert_error(streamed, 413, "upload: expected at most 4.0 MiB", "so far")


def test_too_many_form_fields_or_a_malformed_form(client):
    fields = {f"field{i}": "x" for i in range(20)}
    assert_error(client.post("/api/redress", data=fields), 400, "Too many fields")
    headers = {"content-type": "multipart/form-data"}  # no boundary
    response = client.post("/api/redress", content=b"garbage", headers=headers)
    assert 400 <= response.status_code < 500 and "error" in response.json()


def test_unknown_routes_and_methods_answer_json(client):
    assert_error(client.get("/api/nothing"), 404, "not found: /api/nothing")
    assert_error(client.get("/api/redress"), 405, "method GET not allowed on /api/redress")
    assert client.get("/static/missing.js").status_code == 404


def test_a_fault_of_the_server_is_a_json_500_and_it_keeps_serving(demo_app, monkeypatch):
    from starlette.testclient import TestClient

    def broken(*args, **kwargs):
        raise RuntimeError("the disk is on fire")

    monkeypatch.setattr(demo_app.state.demo, "redress", broken)
    with TestClient(demo_app, raise_server_exceptions=False) as client:
        assert_error(redress(client), 500, "RuntimeError: the disk is on fire")
        assert client.get("/api/info").status_code == 200
