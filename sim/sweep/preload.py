"""Dask worker preload of sweep workers on a batch cluster (`dask worker --preload sim.sweep.preload`,
which `sim sweep --cluster` puts in every job's worker command).

The job script has already exported SIM_THREADS=1 and NUMBA_NUM_THREADS=1 (sim.sweep.cluster), so
numba starts with one thread when sim loads; this applies the same policy in case it did not
(`sim.threads.configure`) and says in the worker's log, which is the job's output file, how many
numba threads each run gets and where the compiled kernels are cached.
"""

from __future__ import annotations

import logging
import os


def dask_setup(worker) -> None:
    from ..threads import configure  # (importing sim, above this module, loaded numba)

    n = configure(1)
    import numba

    # numba.config.NUMBA_NUM_THREADS is the size of the pool numba started with: 1 when the job's
    # environment said so before numba loaded
    logging.getLogger("distributed.sim").info(
        "sim worker %s (pid %d): %d numba thread(s) per run, numba's pool %d thread(s); numba cache: %s",
        getattr(worker, "name", "?"), os.getpid(), n, numba.config.NUMBA_NUM_THREADS,
        os.environ.get("NUMBA_CACHE_DIR") or "next to the installed sources")
