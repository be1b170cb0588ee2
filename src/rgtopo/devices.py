"""Where networks run: thread pools and seeds, the devices TensorFlow sees, and the GPU check
of GPU-tagged jobs (fail at once instead of training on the CPU for days).

TensorFlow falls back to the CPU, with its warning muted, when it cannot load the CUDA
libraries; with ``training.require_gpu`` a job stops instead and names what is missing.
"""

from __future__ import annotations

import ctypes
import glob
import os
import sys
import warnings
from collections.abc import Callable

from .errors import DeviceError


def _loadable(library: str) -> bool:
    """Whether the dynamic loader, or the nvidia-* wheels TensorFlow uses, can provide it."""
    candidates = [library]
    for site in sys.path:
        candidates += sorted(glob.glob(os.path.join(site, "nvidia", "*", "lib", library)))
    for candidate in candidates:
        try:
            ctypes.CDLL(candidate)
            return True
        except OSError:
            continue
    return False


def cuda_libraries(build_info) -> list[str]:
    """The CUDA driver and runtime libraries a TensorFlow build loads for its GPU kernels."""
    cuda = str(build_info.get("cuda_version") or "12").split(".")[0]
    cudnn = str(build_info.get("cudnn_version") or "9").split(".")[0]
    return ["libcuda.so.1", f"libcudart.so.{cuda}", f"libcublas.so.{cuda}",
            f"libcublasLt.so.{cuda}", f"libcufft.so.{11 if cuda == '12' else cuda}",
            f"libcudnn.so.{cudnn}"]


def require_gpu() -> str:
    """Return the GPU names TensorFlow sees; raise DeviceError (one line) when it sees none."""
    import tensorflow as tf  # lazy: the steps import this module without TensorFlow

    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        return ", ".join(g.name for g in gpus)
    info = dict(tf.sysconfig.get_build_info())
    missing = [lib for lib in cuda_libraries(info) if not _loadable(lib)]
    build = ("a CUDA build" if info.get("is_cuda_build")
             else "a CPU-only build: install the package with the 'gpu' extra")
    found = (f"missing CUDA libraries: {', '.join(missing)}" if missing
             else "all CUDA libraries load: check the driver and CUDA_VISIBLE_DEVICES")
    raise DeviceError(f"training.require_gpu is set but TensorFlow {tf.__version__} ({build}) "
                      f"sees no GPU on {os.uname().nodename}; {found}")


def configure(threads: int, seed: int, log: Callable[[str], None] | None = None) -> None:
    """Thread pools and seeds; call before building any model.

    TensorFlow fixes its thread pools when it first runs an operation; a later
    call in the same process (several stages or tests in one interpreter)
    keeps them and says so through ``log`` (a warning without one) when the
    count asked for differs.
    """
    import keras  # lazy: the steps import this module without TensorFlow
    import tensorflow as tf  # lazy: as above

    threads = max(int(threads), 1)
    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(min(threads, 2))
    except RuntimeError:
        have = tf.config.threading.get_intra_op_parallelism_threads()
        if have != threads:
            message = (f"TensorFlow already runs with {have or 'its default'} intra-op "
                       f"threads in this process; keeping them (asked for {threads})")
            if log is None:
                warnings.warn(message, RuntimeWarning, stacklevel=2)
            else:
                log(message)
    keras.utils.set_random_seed(int(seed))


def device_summary() -> str:
    import tensorflow as tf  # lazy: the steps import this module without TensorFlow

    gpus = tf.config.list_physical_devices("GPU")
    return f"{len(gpus)} GPU(s): {[g.name for g in gpus]}" if gpus else "CPU only"
