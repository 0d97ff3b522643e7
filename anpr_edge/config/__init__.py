"""The configuration: one typed tree (``schema``), YAML loading with line numbers, and the checks that ``run``
and ``check-config`` share."""
