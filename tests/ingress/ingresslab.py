"""Helpers shared by the ingress tests (a module of its own: `conftest` names clash across test folders)."""
import os

LAB_FILE = os.path.join(os.path.dirname(__file__), "ingress_lab.yaml")


def curl(lab, args: str):
    """curl from the client machine outside the cluster."""
    return lab.sh(f"curl {args}", on="client")
