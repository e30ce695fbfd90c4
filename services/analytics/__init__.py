"""analytics (:8003): usage, performance and recommendation analytics fed by the ``alchm:usage`` stream."""
