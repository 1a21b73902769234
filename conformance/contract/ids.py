"""Where the imported contract's schemas live: the base of every schema's ``$id``, and the index file.

Apart from the importer that writes them, so that reading the contract (every replay) does not load
the importer, the overlay and its JSONPath parser.
"""

from __future__ import annotations

BASE_URI = "https://schemas.sunco-conformance.test/"
INDEX_FILE = "index.json"
