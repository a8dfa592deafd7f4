"""Synthetic mannequins: procedurally drawn people with exact segmentations and official-style sentences.

The default data of the FashionGAN recipe (the official images need a DeepFashion password). Each sample
follows the sample contract of [`fashion_gan.data.contract`][fashion_gan.data.contract]: an upright RGB image,
a label map with the official 7 ids, a sentence in the official style and vocabulary ("the lady was wearing a
blue long-sleeved blouse."), the official attribute labels (category, colour, sleeve, gender) and the paper's
wearer attributes (gender, long hair, hat, sunglasses, skin tone, body width, body height).

How a picture is drawn: every body part and garment is a signed-distance shape in normalised coordinates
(``x, y`` in ``[0, 1]``, ``y`` down) - ellipses, (tapered) capsules and vertical profiles whose half-width
is a piecewise-linear function of ``y``. Shapes are painted back to front; a shape's coverage of a pixel is
``clip(0.5 - d * S, 0, 1)`` for its signed distance ``d`` (anti-aliasing without supersampling) and the
pixel's colour is blended by it. **The label of a pixel is the label of the topmost shape covering at least
half of it**, so the label map is exactly what was painted. Colours are shaded (darker towards a shape's
rim) and multicolour garments get a stripe, check or dot print. A whole batch is drawn at once with
vectorised numpy, each shape only over the rows and columns where it can be non-zero.

Sample ``i`` of a split is a pure function of ``(seed, split, i)``: its random numbers come from
``numpy.random.default_rng([seed, split_id, i])`` and the drawing uses only exactly-rounded arithmetic, so a
sample is bit-identical however it is batched.

The modules, bottom to top: ``tables`` (colours, official frequencies, garment shapes), ``attributes``
(the random draws), ``sentences``, ``shapes`` (the signed-distance primitives), ``canvas`` (strokes, fills,
blending), ``geometry`` (the body and garment layout of a batch), ``colors``, ``painters`` (one per body part
or garment, back to front), ``render`` and ``dataset``.
"""

from fashion_gan.data.contract import VOCABULARY_PATH, official_vocabulary
from fashion_gan.data.synthetic.attributes import (
    GARMENT_UNIFORMS,
    SPLITS,
    attributes_from_uniforms,
    garment_twins,
    sample_attributes,
    twin_donors,
)
from fashion_gan.data.synthetic.dataset import SyntheticMannequins
from fashion_gan.data.synthetic.render import render_mannequins
from fashion_gan.data.synthetic.sentences import make_sentence
from fashion_gan.data.synthetic.tables import COLOR_RGB

__all__ = [
    "SyntheticMannequins",
    "SPLITS",
    "COLOR_RGB",
    "sample_attributes",
    "attributes_from_uniforms",
    "garment_twins",
    "twin_donors",
    "GARMENT_UNIFORMS",
    "render_mannequins",
    "make_sentence",
    "official_vocabulary",
    "VOCABULARY_PATH",
]
