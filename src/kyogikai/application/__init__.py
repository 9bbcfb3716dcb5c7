"""The application by concern; :class:`kyogikai.app.Kyogikai` wires these services together (see
its module docstring for the map)."""
