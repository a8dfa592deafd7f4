"""Who the demo redresses: the test people of the run's data, or a person uploaded as two PNG files."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

from PIL import Image

from .. import runs
from ..config import RunConfig
from ..inference.person_files import read_person_files
from .errors import RequestError
from .pictures import image_png, labels_png

__all__ = ["Gallery", "read_uploaded_person"]


class Gallery:
    """The test split of a run's data: any test person by index, and PNG thumbnails of the first ones.

    The data of the run (synthetic, or the official release at ``data.root``) is opened once. When it cannot
    be opened (the release is not on this machine), the gallery is empty, `error` says why, and the
    demo still redresses uploaded people.

    Args:
        cfg: the run's configuration (its ``data`` section is read).
        size: how many test people the gallery shows (the first ones of the split).
    """

    def __init__(self, cfg: RunConfig, *, size: int = 12):
        self.error: str | None = None
        try:
            self.dataset = runs.make_dataset(cfg.data, "test")
        except (OSError, ValueError) as err:
            self.dataset, self.error = None, f"the run's test people cannot be shown: {err}"
        count = min(size, len(self.dataset)) if self.dataset is not None else 0
        batch = self.dataset.get_batch(list(range(count))) if count else None
        self.thumbnails = [
            {"image": image_png(batch["image"][i]), "labels": labels_png(batch["labels"][i])}
            for i in range(count)
        ]
        self.sentences = list(batch["sentence"]) if batch is not None else []

    def __len__(self) -> int:
        """Test people that can be asked for (the whole split, not only the thumbnails)."""
        return len(self.dataset) if self.dataset is not None else 0

    def person(self, index: int) -> dict:
        """Test person ``index``: uint8 ``image`` (1, 3, H, W) and ``labels`` (1, H, W)."""
        if not 0 <= index < len(self):
            raise RequestError(
                f"person: expected a test person in [0, {len(self) - 1}], got {index}"
                if len(self)
                else f"person: this demo has no test people ({self.error}); upload a picture instead",
                status=404,
            )
        batch = self.dataset.get_batch([index])
        return {"image": batch["image"], "labels": batch["labels"]}

    def thumbnail(self, index: int, kind: str) -> bytes:
        """The PNG of gallery person ``index``: ``kind`` ``"image"`` or ``"labels"`` (coloured)."""
        if kind not in ("image", "labels"):
            raise RequestError(f"thumbnail: expected 'image' or 'labels', got {kind!r}", status=404)
        if not 0 <= index < len(self.thumbnails):
            shown = f"[0, {len(self.thumbnails) - 1}]" if self.thumbnails else "none (the gallery is empty)"
            raise RequestError(f"thumbnail: expected a gallery person in {shown}, got {index}", status=404)
        return self.thumbnails[index][kind]


def _check_header(what: str, name: str, data: bytes, image_size: int) -> None:
    """The size in the file's header, before anything is decoded.

    A PNG of a few kilobytes can unpack to hundreds of megapixels; reading only the header first keeps such
    a file from being decoded at all.
    """
    try:
        with Image.open(io.BytesIO(data)) as im:
            width, height = im.size
    except OSError:  # PIL's reason names the in-memory buffer, which says nothing to the person uploading
        raise RequestError(f"{what} {name}: not a readable image (expected a PNG file)") from None
    if (width, height) != (image_size, image_size):
        raise RequestError(
            f"{what} {name}: expected a {image_size}x{image_size} image for this run, got {width}x{height}"
        )


def read_uploaded_person(
    image: bytes, labels: bytes, *, image_size: int, image_name: str = "image", labels_name: str = "labels"
) -> dict:
    """A person from the bytes of an uploaded RGB image and label-map PNG (pixel values: the ids 0..6).

    The files are checked as ``fashion-gan generate --image --labels`` checks them
    ([`read_person_files`][fashion_gan.inference.person_files.read_person_files]): the run's size, ids up to
    6, readable; an error names the upload (``image me.png``, ``label map me_labels.png``).

    Returns:
        uint8 ``image`` (1, 3, H, W) and ``labels`` (1, H, W).

    Raises:
        RequestError: an empty, unreadable or wrong-size file, or ids above 6.
    """
    uploads = (("image", image_name, image), ("label map", labels_name, labels))
    for what, name, data in uploads:
        if not data:
            raise RequestError(f"{what} {name}: the file is empty")
        _check_header(what, name, data, image_size)
    with tempfile.TemporaryDirectory() as folder:
        paths = [Path(folder) / f"{what.replace(' ', '_')}.png" for what, _, _ in uploads]
        for path, (_, _, data) in zip(paths, uploads, strict=True):
            path.write_bytes(data)
        try:
            return read_person_files(paths[0], paths[1], image_size=image_size)
        except ValueError as err:
            message = str(err)
            for path, (what, name, _) in zip(paths, uploads, strict=True):
                message = message.replace(str(path), f"{what} {name}")
            raise RequestError(message) from None
