"""numba kernels over firm arrays, grouped by mechanism (MODEL.md steps 3-10).

Each kernel is pure in the sense of STYLE.md: arrays in, results written to explicit arrays, no
randomness inside (draws arrive as arrays), no Python objects.

Indices are unsigned: rows of a chunk come from `sim._numba.rows_of`, and sector, bank and row
numbers read from arrays are cast with np.uint64 before they index. numba compiles every array
access through a signed index with a check for negative values (Python's a[-1]); with unsigned
indices it leaves the checks out. The results are the same; the 1:1 month took 54.6 ms before and
48.0 after (benchmarks/RESULTS.md).

A row's values are read into local variables once and written back once: numba cannot tell that
two array arguments do not overlap, so after every store (a sector sum, say) the compiled code
reads the row's other values from memory again. (Income: 14.7 -> 13.6 ms on one thread at 1:1,
same results.)
"""
