"""The Linux dataplane: namespaces, devices, tables and the packet path.

Nothing in this package knows about Kubernetes. See README.md here for the packet path.
"""
