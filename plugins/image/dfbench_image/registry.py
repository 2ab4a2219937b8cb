"""MMEngine registries of the ``dfbench_image`` scope, one child of each of MMEngine's root registries.

Configs set ``default_scope='dfbench_image'``; MMEngine then imports this module by that name
and looks every type up here first, then in the root (optimizers, samplers, ``default_collate``
and the Runner's own hooks live there). Every root registry has a child, as OpenMMLab projects
do, so no lookup falls back with a warning. The three that hold dfbench_image's own classes import
the modules in their ``locations`` the first time they build something; the MMEngine base's shared
pieces (the video AUC metric, the validation-history and pretrained-weights hooks, the CPU bf16
optimiser wrapper) live in the root registries (:mod:`dfbench_mmaction.runtime`).
"""

from mmengine import registry as root
from mmengine.registry import Registry

SCOPE = "dfbench_image"


def _child(parent: Registry, *locations: str) -> Registry:
    return Registry(parent.name, parent=parent, scope=SCOPE, locations=list(locations))


MODELS = _child(root.MODELS, "dfbench_image.model", "dfbench_image.networks")
DATASETS = _child(root.DATASETS, "dfbench_image.data")
METRICS = _child(root.METRICS)  # VideoAUCMetric is the MMEngine base's, in the root (dfbench_mmaction.metrics)
HOOKS = _child(root.HOOKS, "dfbench_image.hooks")

RUNNERS = _child(root.RUNNERS)
RUNNER_CONSTRUCTORS = _child(root.RUNNER_CONSTRUCTORS)
LOOPS = _child(root.LOOPS)
STRATEGIES = _child(root.STRATEGIES)
DATA_SAMPLERS = _child(root.DATA_SAMPLERS)
TRANSFORMS = _child(root.TRANSFORMS)
MODEL_WRAPPERS = _child(root.MODEL_WRAPPERS)
WEIGHT_INITIALIZERS = _child(root.WEIGHT_INITIALIZERS)
OPTIMIZERS = _child(root.OPTIMIZERS)
OPTIM_WRAPPERS = _child(root.OPTIM_WRAPPERS)
OPTIM_WRAPPER_CONSTRUCTORS = _child(root.OPTIM_WRAPPER_CONSTRUCTORS)
PARAM_SCHEDULERS = _child(root.PARAM_SCHEDULERS)
EVALUATOR = _child(root.EVALUATOR)
TASK_UTILS = _child(root.TASK_UTILS)
VISUALIZERS = _child(root.VISUALIZERS)
VISBACKENDS = _child(root.VISBACKENDS)
LOG_PROCESSORS = _child(root.LOG_PROCESSORS)
INFERENCERS = _child(root.INFERENCERS)
FUNCTIONS = _child(root.FUNCTIONS)
