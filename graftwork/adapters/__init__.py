"""Everything that talks to the outside world. Heavy libraries are imported lazily."""
