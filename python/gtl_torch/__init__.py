"""PyTorch interop for gtl (Guided Transfer Learning).

- :func:`load_guide` reads a gtl guide file (``guide.safetensors``) for a PyTorch module.
- :class:`GuidedOptimizer` wraps any ``torch.optim`` optimiser so that each parameter's
  *update* is multiplied by its guide value (the same arithmetic as gtl's own optimisers).
- :func:`export_base` writes a ``torch.nn.Sequential`` as a gtl base model;
  :func:`import_base` builds the ``torch.nn.Sequential`` a gtl model file describes.
"""

from .guide import GuideError, load_guide
from .optim import GuidedOptimizer, guide_optimizer
from .base import (ArchitectureError, architecture_of, export_base, import_base,
                   parse_architecture)

__all__ = [
    "GuideError", "load_guide",
    "GuidedOptimizer", "guide_optimizer",
    "ArchitectureError", "architecture_of", "export_base", "import_base", "parse_architecture",
]
__version__ = "0.1.0"
