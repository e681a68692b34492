"""shopseg: customer segmentation for online shops, inside the warehouse."""

__version__ = "0.1.0"
