"""stepgrad's renderers and command line: derivation -> LaTeX, Markdown, Python -> files."""
