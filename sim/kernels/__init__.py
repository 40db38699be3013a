"""numba kernels over firm arrays, grouped by mechanism (MODEL.md steps 3-10).

Each kernel is pure in the sense of STYLE.md: arrays in, results written to explicit arrays, no
randomness inside (draws arrive as arrays), no Python objects.
"""
