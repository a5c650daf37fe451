"""The help-request detector: named rules weighed with a learned model, its training and its stored versions."""
