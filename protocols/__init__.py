"""The protocol definitions (versioned YAML), installed as ``dfbench.protocol_files`` so they ship with dfbench."""
