"""condgan: conditional-GAN building blocks for PyTorch.

The core imports only torch, einops, kornia, numpy and safetensors; timm is never imported here.
"""

__version__ = "0.1.0"
