"""Our cdk-nag rules (one pure function per module), the pack that applies them, and every
acknowledgment of a finding in the app, kept in one visible place (``acknowledgments.py``)."""
