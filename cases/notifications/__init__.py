"""Notifications: the outbox written in the cause's transaction (``outbox``), its delivery by the
worker (``drain``), and the staff's in-app list (``views``, ``urls``)."""
