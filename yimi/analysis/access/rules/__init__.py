"""Rule packs shipped with Yimi (YAML data files, loaded by :mod:`yimi.analysis.access.rulepack`)."""
