"""The embedded local stack: the same ASL and handlers, with moto, in-process Lambda and Redis."""

from .stack import LocalStack

__all__ = ["LocalStack"]
