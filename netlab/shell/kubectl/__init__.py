"""kubectl: one module per verb; `cmd_kubectl` dispatches."""
