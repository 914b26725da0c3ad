"""Reusable CDK constructs, one per logical unit, each in its own file named by capability.

Not called ``constructs/``: a top-level package of that name would shadow the ``constructs``
library that every CDK construct imports.
"""
