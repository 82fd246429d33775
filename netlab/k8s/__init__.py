"""The control plane and the node agents that write dataplane state.

Objects are stored as the API server stores them (plain manifests with metadata
and status); controllers watch the store and change namespaces, devices and tables
in `netlab.net`, exactly the state a learner can inspect and edit by hand.
"""
