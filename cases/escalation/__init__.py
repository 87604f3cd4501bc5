"""Escalation: the sweep that climbs overdue issues up their category's ladder and groups hot spots
into Problems (``sweep``), the ladders themselves (``ladders``), and supervisors' decisions on
what the sweep escalated (``decisions``)."""
