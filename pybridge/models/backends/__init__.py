"""Model loaders, one module per backend; importing this package registers them.

Each module adds its row to :mod:`pybridge.models.backend_table` when imported and
imports its model library (torch, transformers, open_clip) only when a model loads.
The order below is the order in which a local folder's configuration file is tried.
"""

# not sorted: the order of registration is the order in which a folder's configuration is tried
from . import open_clip_backend, transformers_clip, fer_cnn  # noqa: F401, I001
