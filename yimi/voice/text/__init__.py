"""Text handling for children's letters, free of Django: personal-data masking (``pii``),
敏感词 screening (``screening``), disclosure triage (``triage``) and topic routing (``routing``).

Rules live in ``rules/*.yaml`` so a city can edit them; every module loads its default file
once and offers ``load_rules(path)`` for an alternative one.
"""
