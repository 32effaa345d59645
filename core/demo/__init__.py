"""``lmsbridge demo``: the main job end to end on a throwaway database against mock platforms,
each served by its adapter's ``lmsbridge_mock_platform``."""
