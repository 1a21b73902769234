"""The generic tests: templates that the resource table turns into tests, one per resource that fits.

``templates`` holds the registry and says how a generated test is named; ``creating``, ``records``
and ``lists`` hold the templates; ``generated`` joins them and hands a suite module its tests.
"""
