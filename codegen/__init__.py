"""Code generators for videogen-shared: everything derived from ``schemas/``.

Run through nox: ``nox -s generate`` writes the artefacts, ``nox -s check`` verifies them. The
package is a development tool and is not shipped in the wheel.

Importing ``jsonschema`` imports ``rfc3987_syntax`` when installed, which builds a Lark grammar
at import time (0.7-1.7 s, a third of a warm ``generate``) for the one format it checks, ``iri``.
The contracts do not use ``iri``/``iri-reference`` and the lint refuses them (VG005), so the code
generators never load it.
"""

from __future__ import annotations

import sys

if "jsonschema" not in sys.modules:
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]

__all__: list[str] = []
