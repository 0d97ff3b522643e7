"""Errors a user can act on. The CLI prints their message on one line and exits non-zero."""

from __future__ import annotations


class AnprError(Exception):
    """Base class: the message names the file, key or camera at fault."""


class ModelLoadError(AnprError):
    """A model file is missing, corrupt, or does not have the shapes its metadata promises."""


class PrecisionError(ModelLoadError):
    """A precision the device or the models folder cannot run (``models.precision``, ``--precision``)."""


class ConfigError(AnprError):
    """The configuration is invalid; the message names the key path."""


class InputError(AnprError):
    """An input (video, image folder, camera) cannot be read."""
