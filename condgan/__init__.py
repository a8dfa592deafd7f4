"""condgan: conditional-GAN building blocks for PyTorch.

The core needs torch, einops, kornia, numpy and safetensors; kornia is imported only inside the functions
that use it (the stage-2 condition's blur, SSIM diversity), so ``import condgan.layers`` loads just torch
and einops. timm is never imported here.
"""

__version__ = "0.1.0"
