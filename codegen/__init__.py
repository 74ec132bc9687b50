"""Code generators for videogen-shared: everything derived from ``schemas/``.

Run through nox: ``nox -s generate`` writes the artefacts, ``nox -s check`` verifies them. The
package is a development tool and is not shipped in the wheel.
"""

from __future__ import annotations

__all__: list[str] = []
