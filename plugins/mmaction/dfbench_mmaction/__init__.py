"""dfbench_mmaction: dfbench's video detectors on MMAction2, and the MMEngine detector base every plugin can use.

* :mod:`dfbench_mmaction.plugin`: the entry point; lists the detectors (and MMAction2's model zoo,
  ``--detector mmaction2:<config>``) without importing torch or OpenMMLab.
* :mod:`dfbench_mmaction.base`: :class:`~dfbench_mmaction.base.MMEngineDetector`, the one recipe
  (face-crop data, weighted loss, validation AUC checkpoint choice, trunk scoring, precision,
  launchers) on which the built-in video detectors, the image baselines and outside plugins train.
* :mod:`dfbench_mmaction.compat`: the mmaction2 1.2.0 packaging workaround, installed on import.
"""

from dfbench_mmaction import compat

compat.install()  # cheap: puts two placeholder modules in sys.modules, imports no framework

__version__ = "0.1.0"
