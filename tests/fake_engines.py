"""A third-party-style visual engine for tests: registered the same way a plugin would be."""
from __future__ import annotations

from PIL import Image

from mktcli.visual.base import VisualEngine, VisualRequest, VisualResult


class GenerativeStub(VisualEngine):
    """Stands in for a diffusion model: a flat mid-grey image flagged as model-generated (AIGC labels apply)."""

    name = "genstub"

    def render(self, req: VisualRequest) -> VisualResult:
        return VisualResult(Image.new("RGB", (req.width, req.height), (120, 120, 120)),
                            {"name": self.name, "model": "stub/model", "seed": req.seed}, generative=True, calm=False)
