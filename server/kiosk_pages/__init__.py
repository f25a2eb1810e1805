"""The server's half of the kiosk: its touch page, print jobs and their sockets, retries.

It talks to the queue through ``server.engine`` and prints with the kiosk device library
(``kiosk/``: ticket layout, printers, the agent), which knows nothing of the server.
"""
