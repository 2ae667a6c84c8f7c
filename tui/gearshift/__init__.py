"""gearshift: route coding tasks between Claude models, validate every edit, meter every cent."""

__version__ = "0.1.0"
