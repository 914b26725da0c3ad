"""Our cdk-nag rules (one pure function per module) and the pack that applies them; every reason for an
acknowledged finding (``reasons.py``), and how constructs acknowledge the findings they cause and the
check that none is stale (``acknowledgments.py``)."""
