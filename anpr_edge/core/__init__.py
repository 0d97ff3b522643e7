"""Pure core: result types (one ``Box``), box geometry and the plate rules. No I/O."""
