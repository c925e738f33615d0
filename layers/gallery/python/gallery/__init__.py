"""Domain code shared by the Past-Life Gallery functions (deployed as a Lambda layer)."""

THEMES = ("realistic", "painting", "travel", "animation")
