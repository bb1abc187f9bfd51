"""Business operations: one module per domain; plain values in, models out, one commit each."""
import importlib
import pkgutil


def load_all():
    """Import every service module. Some register hooks when imported — above all who may see the
    media attached to their objects (`media.register_visibility`, deny by default) — so the app
    factory calls this: every rule is in place whatever else happens to have been imported."""
    for info in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{info.name}")
