"""The help-request detector: named rules weighed with a learned model, its training, its stored versions, and
the worker processes (``pool``) that classify off the collecting process's GIL."""
