"""FashionGAN ("Be Your Own Prada", ICCV 2017) assembled from condgan's layers."""
